// Package driver is the KFP side of the plugin: it decides, for one pipeline
// task, its inputs, whether it runs (condition, cache), how often (ParallelFor)
// and with what pod spec, and records all of it in ML Metadata.
//
// The plugin package decodes an Argo call into a Request and hands it to a
// Driver; nothing in this package knows about HTTP or Argo's wire format.
package driver

import (
	"context"
	"errors"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
)

// Type is the kind of driver step, as KFP's compiler names it.
type Type string

// The three driver types KFP compiles.
const (
	RootDAG   Type = "ROOT_DAG"
	DAG       Type = "DAG"
	Container Type = "CONTAINER"
)

// Valid reports whether t is one of the driver types KFP compiles.
func (t Type) Valid() bool {
	return t == RootDAG || t == DAG || t == Container
}

// Line is the KFP release line whose driver contract a call follows; it
// picks the record-keeping backend.
type Line string

// The two lines: KFP 2.x records in ML Metadata; KFP master (the 3.0 line)
// records through the KFP API server's task and artifact APIs.
const (
	LineMLMD   Line = "" // the zero value: every call decoded before the native line existed
	LineNative Line = "native"
)

// Driver runs one driver step. Implementations must be safe for concurrent
// use and idempotent: Argo repeats calls on timeouts and agent restarts.
type Driver interface {
	Run(ctx context.Context, req *Request) (*Result, error)
}

// Func adapts a function to the Driver interface.
type Func func(ctx context.Context, req *Request) (*Result, error)

// Run calls f.
func (f Func) Run(ctx context.Context, req *Request) (*Result, error) { return f(ctx, req) }

// Request is one decoded driver call.
type Request struct {
	Type Type
	// Namespace is the workflow's namespace, taken from the Argo request and
	// already checked against the pod's own namespace by the plugin.
	Namespace    string
	WorkflowName string
	WorkflowUID  string

	PipelineName          string
	RunID                 string
	RunName               string
	RunDisplayName        string
	PipelineJobCreateTime string // RFC 3339, {{workflow.creationTimestamp}}
	ScheduleTimeEpochSecs string // optional, as given

	Component     *pipelinespec.ComponentSpec
	Task          *pipelinespec.PipelineTaskSpec // nil for ROOT_DAG
	TaskName      string                         // the task's key in the parent DAG
	Container     *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec
	RuntimeConfig *pipelinespec.PipelineJob_RuntimeConfig
	// KubernetesConfig is nil when the compiled workflow passed "" (no
	// platform config); an empty but present config is non-nil.
	KubernetesConfig *kubernetesplatform.KubernetesExecutorConfig
	// KubernetesConfigJSON is the raw config, kept for fields newer than the
	// kubernetes_platform Go module this binary was built with.
	KubernetesConfigJSON []byte

	DAGExecutionID int64
	IterationIndex int // -1 when the step is not a loop iteration

	// Line is the KFP line that compiled the call, told apart by its
	// arguments: the native line carries parent_task_id and namespace and no
	// component, task or container specs (they come from the run's stored
	// pipeline spec) and no MLMD address.
	Line Line
	// ParentTaskID is the parent DAG's task ID in the KFP API server
	// (native line; "" for ROOT_DAG and on the MLMD line).
	ParentTaskID string

	Options Options
}

// IterationDriver reports whether the call starts one iteration of a
// ParallelFor: the MLMD line's iteration DAG driver, whose children run
// under it. On the native line no call starts an iteration: iteration_index
// says which iteration of the parent loop a task runs in, and the task's
// parent is the loop itself.
func (r *Request) IterationDriver() bool {
	return r.Line != LineNative && r.Type == DAG && r.IterationIndex >= 0
}

// Options are the deployment settings KFP's compiler passes to every driver.
type Options struct {
	MLMDAddress       string
	MLMDPort          string
	MLPipelineAddress string
	MLPipelinePort    string
	MLPipelineTLS     bool
	MetadataTLS       bool
	CACertPath        string
	CacheDisabled     bool
	LogLevel          string
	PublishLogs       string
	HTTPProxy         string
	HTTPSProxy        string
	NoProxy           string

	// Administrator defaults for the task pod; nil when not given.
	DefaultRunAsUser    *int64
	DefaultRunAsGroup   *int64
	DefaultRunAsNonRoot *bool
	DefaultHostUsers    *bool
}

// Result is what a driver step decided. Unset fields are left to the
// defaults the compiled template declares.
type Result struct {
	ExecutionID    int64 // 0: no execution was created
	IterationCount *int  // ROOT_DAG and DAG
	Condition      *bool // nil: the task has no trigger condition
	CachedDecision *bool // CONTAINER
	PodSpecPatch   string
	// TaskID is the ROOT_DAG or DAG step's task in the KFP API server
	// (native line), which its children receive as parent-dag-task-id;
	// "" on the MLMD line.
	TaskID string
	// Message is the one-line decision shown in `argo get`.
	Message string
	// LogURI is where this step's driver log belongs (recorded on its
	// execution as driver_logs_uri); "" when the run has no pipeline root.
	LogURI string
}

// Names of the Argo output parameters KFP's compiled templates consume.
const (
	OutputExecutionID    = "execution-id"
	OutputParentTaskID   = "parent-dag-task-id-path" // the native line's DAG output, in place of execution-id
	OutputIterationCount = "iteration-count"
	OutputCondition      = "condition"
	OutputCachedDecision = "cached-decision"
	OutputPodSpecPatch   = "pod-spec-patch"
)

// Outputs renders r as Argo output parameter values, in the formats KFP's
// compiled workflows compare against ("true"/"false"/"nil", decimals, JSON).
func (r *Result) Outputs(t Type) map[string]string {
	out := map[string]string{}
	if r.ExecutionID != 0 {
		out[OutputExecutionID] = strconv.FormatInt(r.ExecutionID, 10)
	}
	if r.TaskID != "" {
		out[OutputParentTaskID] = r.TaskID
	}
	if t != Container {
		n := 0
		if r.IterationCount != nil {
			n = *r.IterationCount
		}
		out[OutputIterationCount] = strconv.Itoa(n)
	}
	switch {
	case r.Condition == nil:
		out[OutputCondition] = "nil"
	default:
		out[OutputCondition] = strconv.FormatBool(*r.Condition)
	}
	if r.CachedDecision != nil {
		out[OutputCachedDecision] = strconv.FormatBool(*r.CachedDecision)
	}
	if r.PodSpecPatch != "" {
		out[OutputPodSpecPatch] = r.PodSpecPatch
	}
	return out
}

// TransientError marks a failure that may pass if the same call is made
// again later (metadata store unreachable, API server throttling). The plugin
// answers Argo with Running and a requeue instead of failing the node.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err as a TransientError; nil stays nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err}
}

// IsTransient reports whether err, or anything it wraps, is transient.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
