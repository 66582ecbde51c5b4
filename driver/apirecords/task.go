package apirecords

import (
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// task is an API server task as the driver reads it (record.Task).
type task struct {
	t    *pb.PipelineTask
	spec *runSpec // for a DAG's output mapping
	// parent overrides the parent task ID: the iteration a loop's child
	// runs in (see iteration.go).
	parent string
}

var _ record.Task = (*task)(nil)

func (t *task) Ref() string       { return t.t.GetTaskId() }
func (t *task) Label() string     { return "task " + t.t.GetTaskId() }
func (t *task) StateName() string { return t.t.GetState().String() }
func (t *task) TaskName() string  { return t.t.GetName() }
func (t *task) ParentRef() string {
	if t.parent != "" {
		return t.parent
	}
	return t.t.GetParentTaskId()
}

// IsDAG: every task type but container and importer tasks has children.
func (t *task) IsDAG() bool {
	switch t.t.GetType() {
	case pb.PipelineTask_RUNTIME, pb.PipelineTask_IMPORTER:
		return false
	}
	return true
}

func (t *task) Status() record.Status {
	switch t.t.GetState() {
	case pb.PipelineTask_SUCCEEDED:
		return record.Succeeded
	case pb.PipelineTask_CACHED:
		return record.Cached
	case pb.PipelineTask_FAILED:
		return record.Failed
	case pb.PipelineTask_SKIPPED:
		return record.Skipped
	}
	return record.Running
}

func (t *task) IterationIndex() (int, bool) {
	a := t.t.GetTypeAttributes()
	return int(a.GetIterationIndex()), a != nil && a.IterationIndex != nil
}

func (t *task) IterationCount() (int, bool) {
	a := t.t.GetTypeAttributes()
	return int(a.GetIterationCount()), a != nil && a.IterationCount != nil
}

func (t *task) Inputs() map[string]*structpb.Value  { return params(t.t.GetInputs()) }
func (t *task) Outputs() map[string]*structpb.Value { return params(t.t.GetOutputs()) }

func params(io *pb.PipelineTask_InputOutputs) map[string]*structpb.Value {
	out := make(map[string]*structpb.Value, len(io.GetParameters()))
	for _, p := range io.GetParameters() {
		out[p.GetParameterKey()] = p.GetValue()
	}
	return out
}

// OutputProducers reads a DAG's output mapping from the run's spec: the
// task's scope path names its component.
func (t *task) OutputProducers(key string, param bool) ([]record.Selector, error) {
	comp, err := t.spec.component(t.t.GetScopePath())
	if err != nil {
		return nil, fmt.Errorf("DAG task %q (%s): %w", t.TaskName(), t.Label(), err)
	}
	outs := record.OutputsOf(comp.GetDag())
	sels, kind := outs.Parameters[key], "parameter"
	if !param {
		sels, kind = outs.Artifacts[key], "artifact"
	}
	if len(sels) == 0 {
		return nil, fmt.Errorf("DAG task %q (%s) declares no output %s %q", t.TaskName(), t.Label(), kind, key)
	}
	return sels, nil
}

// WorkspaceImporter: the native line marks workspace artifacts on the
// artifact itself.
func (t *task) WorkspaceImporter() bool { return false }
