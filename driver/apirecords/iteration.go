package apirecords

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/iterate"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// On the native line a ParallelFor has no task per iteration: the tasks
// of iteration i are the loop's children with iteration index i. The
// driver's decisions read loops the way the MLMD line records them (loop,
// iterations, their tasks), so this store shows each iteration as a
// record of its own, "<loop task id>#<i>": its inputs are the loop's with
// item i under the item input, its children the loop's children of that
// iteration.

// iterationRef names iteration i of the loop task.
func iterationRef(loop string, i int) string { return loop + "#" + strconv.Itoa(i) }

// splitRef reads an iteration ref; ok is false for a task ID.
func splitRef(ref string) (loop string, i int, ok bool) {
	loop, idx, found := strings.Cut(ref, "#")
	if !found {
		return ref, -1, false
	}
	i, err := strconv.Atoi(idx)
	return loop, i, err == nil && i >= 0
}

func isLoop(t *pb.PipelineTask) bool {
	a := t.GetTypeAttributes()
	return t.GetType() == pb.PipelineTask_LOOP || (a != nil && a.IterationCount != nil)
}

// iteration is iteration i of a loop task (record.Task).
type iteration struct {
	loop   *task
	i      int
	it     iterate.Loop
	inputs *pipelinespec.ExecutorInput_Inputs // the loop's, item i picked
}

var _ record.Task = (*iteration)(nil)

// newIteration builds iteration i of loop from the loop task's recorded
// inputs and its task spec's iterator.
func newIteration(loop *pb.PipelineTask, i int, spec *runSpec) (*iteration, error) {
	scope := loop.GetScopePath()
	cut := strings.LastIndexByte(scope, '.')
	if cut < 0 {
		return nil, fmt.Errorf("loop task %s: scope path %q names no task", loop.GetTaskId(), scope)
	}
	c, err := spec.child(scope[:cut], scope[cut+1:])
	if err != nil {
		return nil, fmt.Errorf("loop task %s: %w", loop.GetTaskId(), err)
	}
	it := iterate.LoopOf(c.task)
	if it.ItemInput == "" {
		return nil, fmt.Errorf("iteration_index %d: task %q (%s) is not a ParallelFor", i, loop.GetName(), loop.GetTaskId())
	}
	in := &pipelinespec.ExecutorInput_Inputs{ParameterValues: maps.Clone(params(loop.GetInputs())),
		Artifacts: map[string]*pipelinespec.ArtifactList{}}
	for _, a := range linked(loop.GetInputs(), true) {
		for _, k := range a.Keys {
			if in.Artifacts[k] == nil {
				in.Artifacts[k] = &pipelinespec.ArtifactList{}
			}
			in.Artifacts[k].Artifacts = append(in.Artifacts[k].Artifacts, a.Artifact)
		}
	}
	if err := it.Pick(in, i); err != nil {
		return nil, fmt.Errorf("iteration %d of task %q: input %q: %w", i, loop.GetName(), it.Items, err)
	}
	return &iteration{loop: &task{t: loop, spec: spec}, i: i, it: it, inputs: in}, nil
}

func (r *iteration) Ref() string       { return iterationRef(r.loop.Ref(), r.i) }
func (r *iteration) Label() string     { return fmt.Sprintf("iteration %d of %s", r.i, r.loop.Label()) }
func (r *iteration) StateName() string { return r.loop.StateName() }
func (r *iteration) TaskName() string  { return r.loop.TaskName() }
func (r *iteration) ParentRef() string { return r.loop.Ref() }
func (r *iteration) IsDAG() bool       { return true }

// Status: an iteration of a loop that runs is running until its tasks
// settle the loop.
func (r *iteration) Status() record.Status       { return r.loop.Status() }
func (r *iteration) IterationIndex() (int, bool) { return r.i, true }
func (r *iteration) IterationCount() (int, bool) { return 0, false }
func (r *iteration) Inputs() map[string]*structpb.Value {
	return r.inputs.GetParameterValues()
}
func (r *iteration) Outputs() map[string]*structpb.Value { return nil }

// OutputProducers: an iteration runs the loop's body, whose outputs the
// loop's component maps.
func (r *iteration) OutputProducers(key string, param bool) ([]record.Selector, error) {
	return r.loop.OutputProducers(key, param)
}
func (r *iteration) WorkspaceImporter() bool { return false }

// artifacts are the iteration's input artifacts, as the loop's task links
// them plus the item.
func (r *iteration) artifacts() []record.Artifact {
	var out []record.Artifact
	for key, list := range r.inputs.GetArtifacts() {
		for _, a := range list.GetArtifacts() {
			out = append(out, record.Artifact{Input: true, Keys: []string{key}, Artifact: proto.CloneOf(a)})
		}
	}
	return out
}
