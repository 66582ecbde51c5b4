// Package standin is the end-to-end suite's stand-in for KFP's launcher,
// run for real inside executor pods: the launcher image of the compiled
// workflows (ghcr.io/kubeflow/kfp-launcher) is, in the suite, an image with
// this program as `launcher-v2`, so the init container copies it to
// /kfp-launcher/launch as KFP's does, and the main container runs it in front
// of the user command from the pod spec patch the driver returned.
//
// What it does, as KFP's launcher does:
//   - container tasks: downloads input artifacts to their local paths, runs
//     the user command (user images are, here, a busybox userland with the
//     host's Python and our stand-in of the KFP SDK's run-time half,
//     e2e/kfpsdk: container components and Python-function components both
//     run for real), reads the executor output file and the output
//     parameter files, uploads the output artifact files it wrote, then
//     publishes the outputs to MLMD (execution COMPLETE or FAILED, output
//     artifacts and events, the cache entry, parent DAG states), writes
//     launcher-complete for the modelcar sidecars and exits with the
//     command's status;
//   - importer pods: registers the imported artifact.
//
// Both record-keeping lines: KFP 2.x's launcher flags (--execution_id,
// --mlmd_server_address) publish to MLMD as above; KFP master's
// (--task_id, and --parent_task_id for importers) publish through the API
// server's task and artifact APIs at --ml_pipeline_server_address with
// package kfpapi/publish (output parameters and artifacts on the task, its
// state, parent DAG states; the IMPORTER task with its artifact).
//
// What it cannot do: a command that needs what the image lacks (gsutil, a
// pip package such as pandas) exits 127. For those it asks the harness
// which outputs the test case's user code "returns" and publishes those.
// Either way it reports to the harness whether user code ran, and how the
// container looks from inside (ContainerReport), so the suite lists which
// cases ran user code for real and checks what kfp-kubernetes settings
// reached the container.
//
// Not published: artifact metadata (the MLMD records carry URIs and names).
//
// Artifacts live in the harness's small HTTP object store (the suite has no
// S3 server), keyed by the artifact URI; the harness and every pod reach it
// at HarnessService in HarnessNamespace through the node's DNS.
package standin

// Where pods find the harness (its Service has the host's bridge address as
// endpoint, so the port is the one the harness listens on).
const (
	HarnessService   = "kfp-e2e-harness"
	HarnessNamespace = "kubeflow"
	HarnessPort      = "8990"
)

// Harness API paths.
const (
	PathBehaviour = "/v1/behaviour" // POST Query -> Answer
	PathArtifacts = "/v1/artifacts" // PUT/GET /v1/artifacts?uri=<artifact URI>
)

// Query asks the harness how a task's user code behaves.
type Query struct {
	Namespace   string `json:"namespace"`
	Pod         string `json:"pod"`
	ExecutionID int64  `json:"executionId"`
	// TaskID and Task name the API server task on the native line (no
	// execution there).
	TaskID string `json:"taskId,omitempty"`
	Task   string `json:"task,omitempty"`
	// RanUserCode says the stand-in ran the user command itself; Produced
	// are the output parameters it read (JSON values).
	RanUserCode bool              `json:"ranUserCode"`
	ExitCode    int               `json:"exitCode"`
	Produced    map[string]any    `json:"produced,omitempty"`
	Inputs      map[string]any    `json:"inputs,omitempty"`
	Outputs     map[string]string `json:"outputs,omitempty"` // declared output parameter -> type
	// Container is the main container as seen from inside it.
	Container *ContainerReport `json:"container,omitempty"`
}

// Answer is what to publish.
type Answer struct {
	// Parameters are the output parameters to publish (the produced ones
	// when user code ran, unless the case overrides them).
	Parameters map[string]any `json:"parameters"`
	Failed     bool           `json:"failed"`
	// Cache makes the stand-in record the cache entry, as the launcher does.
	Cache bool `json:"cache"`
	// ListSize is how many artifacts a list output gets.
	ListSize int `json:"listSize,omitempty"`
}
