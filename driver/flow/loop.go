package flow

import (
	"context"
	"fmt"
	"maps"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/iterate"
)

func iterateRaw(raw string) (*structpb.Value, error) { return iterate.Raw(raw) }

// loopCount is the item count of a ParallelFor loop driver that runs; nil
// for any other DAG step.
func loopCount(req *driver.Request, res *inputs.Resolved, triggered *bool) (*int, error) {
	it := iterate.LoopOf(req.Task)
	if it.ItemInput == "" || req.IterationDriver() || (triggered != nil && !*triggered) {
		return nil, nil
	}
	if it.Artifacts {
		list, ok := res.Inputs.GetArtifacts()[it.Items]
		if !ok {
			return nil, fmt.Errorf("resolving input %q of task %q: the artifact list to iterate over was not resolved", it.Items, req.TaskName)
		}
		return ptr(len(list.GetArtifacts())), nil
	}
	v, ok := res.Inputs.GetParameterValues()[it.Items]
	if !ok {
		return nil, fmt.Errorf("resolving input %q of task %q: the items to iterate over were not resolved", it.Items, req.TaskName)
	}
	items, err := iterate.Items(v)
	if err != nil {
		return nil, fmt.Errorf("resolving input %q of task %q: %w", it.Items, req.TaskName, err)
	}
	return ptr(len(items)), nil
}

// iterationInputs are one iteration's inputs: the loop execution's (its
// parent) with the items replaced by item i under the item input.
func iterationInputs(ctx context.Context, sc *scope, req *driver.Request) (*inputs.Resolved, error) {
	it := iterate.LoopOf(req.Task)
	if it.ItemInput == "" {
		return nil, fmt.Errorf("task %q: iteration_index %d given but the task is not a ParallelFor", req.TaskName, req.IterationIndex)
	}
	arts, err := sc.resolver.ParentArtifacts(ctx)
	if err != nil {
		return nil, err
	}
	in := &pipelinespec.ExecutorInput_Inputs{ParameterValues: maps.Clone(sc.call.Parent().Inputs()), Artifacts: arts}
	if in.ParameterValues == nil {
		in.ParameterValues = map[string]*structpb.Value{}
	}
	if err := it.Pick(in, req.IterationIndex); err != nil {
		return nil, fmt.Errorf("resolving input %q of task %q: %w", it.Items, req.TaskName, err)
	}
	return inputs.Validated(in, req.Component, []string{it.Items})
}
