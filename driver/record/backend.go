package record

import (
	"context"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// Backend keeps the records of one KFP line. The driver's decisions are the
// same on both lines; what is written, where, and what the launcher is told
// differ. Implementations must be idempotent: a repeated call (Argo retries
// on timeouts and agent restarts) finds the record the first call wrote.
type Backend interface {
	// Root records the run (when the line keeps run records) and its root
	// DAG with the run's input parameters.
	Root(ctx context.Context, req *driver.Request, root Root) (*Written, error)
	// Open begins a DAG or CONTAINER call: it reads the parent DAG and
	// checks that it belongs to the call's run.
	Open(ctx context.Context, req *driver.Request) (Call, error)
}

// Root is where a run's outputs go, decided from the runtime config and the
// namespace's kfp-launcher ConfigMap.
type Root struct {
	// PipelineRoot is the run's own root (<root>/<pipeline>/<run id>).
	PipelineRoot     string
	StoreSessionInfo string
}

// Call is one DAG or CONTAINER call's view of its run.
type Call interface {
	// Request is the call's request with the specs its line keeps in the
	// store filled in (the native line passes no component, task or
	// container; they come from the run's stored pipeline spec).
	Request() *driver.Request
	// Parent is the parent DAG's record.
	Parent() Task
	// Store reads the run's other records.
	Store() Store
	// PipelineRoot is the run's own root ("" when the run has none).
	PipelineRoot() string
	// StepName is the deterministic name of this call's record: output URIs
	// and generated PVC names derive from it, so a repeated call renders
	// the same pod spec.
	StepName() string
	// Existing finds this call's record if an earlier call wrote it.
	Existing(ctx context.Context) (*Written, error)
	// Write records the step, or finds the record an earlier call wrote.
	Write(ctx context.Context, step Step) (*Written, error)
	// Settle brings the states of the DAG with Ref dag and its ancestors up
	// to date after a step that ends without a launcher run (a cache hit, a
	// skipped task, an empty loop, a PVC op).
	Settle(ctx context.Context, dag string) error
	// CacheHit looks up fp and returns the outputs to reuse; nil on a miss,
	// and when the cached step lacks one of the outputs wanted (running
	// again is always correct).
	CacheHit(ctx context.Context, fp string, want *pipelinespec.ExecutorInput_Outputs) (*Outputs, error)
	// Cached makes a finished step the driver did itself (a PVC op) findable
	// by later cache lookups.
	Cached(ctx context.Context, w *Written, fp string) error
	// LauncherCommand is the executor pod's launcher command for the step
	// recorded as w: the launcher publishes the step's outputs to this
	// line's store.
	LauncherCommand(w *Written, in *pipelinespec.ExecutorInput, fp string) ([]string, error)
}

// Kind is the kind of step a record is for.
type Kind int

// The step kinds below the root.
const (
	DAGStep Kind = iota
	ContainerStep
)

// Step is what the driver decided for a DAG or CONTAINER call.
type Step struct {
	Kind   Kind
	Status Status // Running, Skipped, Cached, or Succeeded for a PVC op
	Inputs *pipelinespec.ExecutorInput_Inputs
	// DAG is a DAG step's spec: its outputs map to its children's.
	DAG *pipelinespec.DagSpec
	// IterationCount is set on a ParallelFor loop.
	IterationCount *int
	// Fingerprint is the cache key, "" when caching does not apply.
	Fingerprint string
	// Outputs are reused from a cache hit, or produced by the driver
	// itself (PVC ops); nil for a step the launcher will run.
	Outputs *Outputs
}

// Outputs are a finished step's outputs.
type Outputs struct {
	// From is the Ref of the step whose outputs a cache hit reuses; "" for
	// outputs the driver produced.
	From       string
	Parameters map[string]*structpb.Value
	// Artifacts are the reused artifacts by output key and store ID.
	Artifacts []OutputArtifact
}

// OutputArtifact is an output artifact by its store's ID.
type OutputArtifact struct {
	Key string
	ID  string
}

// Written is a step's record as stored: a repeated call gets the record
// the first call wrote, which may say something else than this call
// decided (a condition found false before, a cache hit).
type Written struct {
	Task    Task
	Created bool
	// ExecutionID is the MLMD line's execution ID (its execution-id
	// output); 0 on the native line.
	ExecutionID int64
	// TaskID is the native line's task ID; "" on the MLMD line.
	TaskID string
	// CachedFrom names the step whose outputs this record reused, as
	// messages name records ("execution 12", "task 3f2c..."); "" when the
	// record reused none.
	CachedFrom string
	// LogURI is where the step's driver log goes; "" when none is kept.
	LogURI string
}
