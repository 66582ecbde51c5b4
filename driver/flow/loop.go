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

// loopSpec is a ParallelFor task's iterator, parameter or artifact.
type loopSpec struct {
	itemInput string // the input each iteration receives its item under
	items     string // the input holding all items ("" for raw items)
	artifacts bool
}

func iterator(task *pipelinespec.PipelineTaskSpec) loopSpec {
	if it := task.GetArtifactIterator(); it != nil {
		return loopSpec{itemInput: it.GetItemInput(), items: it.GetItems().GetInputArtifact(), artifacts: true}
	}
	if it := task.GetParameterIterator(); it != nil {
		items := it.GetItems().GetInputParameter()
		if items == "" {
			items = it.GetItemInput() // raw items are stored under the item input
		}
		return loopSpec{itemInput: it.GetItemInput(), items: items}
	}
	return loopSpec{}
}

func iterateRaw(raw string) (*structpb.Value, error) { return iterate.Raw(raw) }

// loopCount is the item count of a ParallelFor loop driver that runs; nil
// for any other DAG step.
func loopCount(req *driver.Request, res *inputs.Resolved, triggered *bool) (*int, error) {
	it := iterator(req.Task)
	if it.itemInput == "" || req.IterationIndex >= 0 || (triggered != nil && !*triggered) {
		return nil, nil
	}
	if it.artifacts {
		list, ok := res.Inputs.GetArtifacts()[it.items]
		if !ok {
			return nil, fmt.Errorf("resolving input %q of task %q: the artifact list to iterate over was not resolved", it.items, req.TaskName)
		}
		return ptr(len(list.GetArtifacts())), nil
	}
	v, ok := res.Inputs.GetParameterValues()[it.items]
	if !ok {
		return nil, fmt.Errorf("resolving input %q of task %q: the items to iterate over were not resolved", it.items, req.TaskName)
	}
	items, err := iterate.Items(v)
	if err != nil {
		return nil, fmt.Errorf("resolving input %q of task %q: %w", it.items, req.TaskName, err)
	}
	return ptr(len(items)), nil
}

// iterationInputs are one iteration's inputs: the loop execution's (its
// parent) with the items replaced by item i under the item input.
func iterationInputs(ctx context.Context, sc *scope, req *driver.Request) (*inputs.Resolved, error) {
	it := iterator(req.Task)
	if it.itemInput == "" {
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
	if err := pickItem(in, it, req.IterationIndex); err != nil {
		return nil, fmt.Errorf("resolving input %q of task %q: %w", it.items, req.TaskName, err)
	}
	return inputs.Validated(in, req.Component, []string{it.items})
}

func pickItem(in *pipelinespec.ExecutorInput_Inputs, it loopSpec, i int) error {
	if it.artifacts {
		item, err := iterate.Artifact(in.Artifacts[it.items], i)
		if err != nil {
			return err
		}
		in.Artifacts[it.itemInput] = item
		return nil
	}
	all, ok := in.ParameterValues[it.items]
	if !ok {
		return fmt.Errorf("the loop execution has no input %q", it.items)
	}
	item, err := iterate.Param(all, i)
	if err != nil {
		return err
	}
	in.ParameterValues[it.itemInput] = item
	return nil
}
