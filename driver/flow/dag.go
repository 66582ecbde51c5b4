package flow

import (
	"context"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/iterate"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// dag runs a DAG task: a nested pipeline, condition branch, exit handler
// group, ParallelFor loop (iteration_index < 0) or one of its iterations.
func (s *Service) dag(ctx context.Context, b record.Backend, req *driver.Request) (*driver.Result, error) {
	sc, req, err := s.scope(ctx, b, req)
	if err != nil {
		return nil, err
	}
	var res *inputs.Resolved
	if req.IterationDriver() {
		res, err = iterationInputs(ctx, sc, req)
	} else {
		res, err = loopOrDAGInputs(ctx, sc, req)
	}
	if err != nil {
		return nil, err
	}
	var triggered *bool
	if !req.IterationDriver() {
		if triggered, err = evalCondition(req.Task, &pipelinespec.ExecutorInput{Inputs: res.Inputs}); err != nil {
			return nil, err
		}
	}
	count, err := loopCount(req, res, triggered)
	if err != nil {
		return nil, err
	}
	step := record.Step{Kind: record.DAGStep, Status: record.Running, Inputs: res.Inputs,
		DAG: req.Component.GetDag(), IterationCount: count}
	if triggered != nil && !*triggered {
		step.Status = record.Skipped
	}
	w, err := sc.call.Write(ctx, step)
	switch {
	case err != nil:
	case w.Task.Status() == record.Skipped:
		err = sc.settle(ctx, w, sc.call.Parent().Ref())
	case count != nil && *count == 0:
		err = sc.settle(ctx, w, w.Task.Ref())
	}
	if err != nil {
		return nil, err
	}
	return dagResult(req, w, len(res.Inputs.GetParameterValues())+len(res.Inputs.GetArtifacts()), triggered, count), nil
}

func loopOrDAGInputs(ctx context.Context, sc *scope, req *driver.Request) (*inputs.Resolved, error) {
	var skip []string
	if it := iterate.LoopOf(req.Task); it.ItemInput != "" {
		skip = append(skip, it.ItemInput)
	}
	res, err := sc.resolver.Resolve(ctx, req.Task, req.Component, inputs.Options{NestedDAG: true, Skip: skip})
	if err != nil {
		return nil, err
	}
	if raw := req.Task.GetParameterIterator().GetItems().GetRaw(); raw != "" {
		items, err := iterateRaw(raw)
		if err != nil {
			return nil, fmt.Errorf("task %q: parameterIterator.items.raw: %w", req.TaskName, err)
		}
		res.Inputs.ParameterValues[req.Task.GetParameterIterator().GetItemInput()] = items
	}
	return res, nil
}

// dagResult replies from the record as stored, so a repeated call that
// found an existing record answers as the first did.
func dagResult(req *driver.Request, w *record.Written, nInputs int, triggered *bool, count *int) *driver.Result {
	r := result(w)
	r.IterationCount, r.Condition = ptr(0), triggered
	if n, ok := w.Task.IterationCount(); ok {
		r.IterationCount = ptr(n)
	}
	if triggered != nil {
		r.Condition = ptr(w.Task.Status() != record.Skipped)
	}
	label := w.Task.Label()
	var msg string
	switch {
	case r.Condition != nil && !*r.Condition:
		msg = fmt.Sprintf("%s: condition false: skipped (%s)", req.TaskName, label)
	case count != nil:
		msg = fmt.Sprintf("%s: %d iterations (%s)", req.TaskName, *r.IterationCount, label)
	case req.IterationDriver():
		msg = fmt.Sprintf("%s: iteration %d, %s", req.TaskName, req.IterationIndex, label)
	default:
		msg = fmt.Sprintf("%s: %s, %d inputs resolved", req.TaskName, label, nInputs)
	}
	return withMessage(r, again(msg, w.Created))
}

func withMessage(r *driver.Result, msg string) *driver.Result {
	r.Message = msg
	return r
}
