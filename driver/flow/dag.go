package flow

import (
	"context"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// dag runs a DAG task: a nested pipeline, condition branch, exit handler
// group, ParallelFor loop (iteration_index < 0) or one of its iterations.
func (s *Service) dag(ctx context.Context, client *mlmd.Client, req *driver.Request) (*driver.Result, error) {
	sc, err := s.scope(ctx, client, req)
	if err != nil {
		return nil, err
	}
	var res *inputs.Resolved
	if req.IterationIndex >= 0 {
		res, err = iterationInputs(ctx, sc, req)
	} else {
		res, err = loopOrDAGInputs(ctx, sc, req)
	}
	if err != nil {
		return nil, err
	}
	var triggered *bool
	if req.IterationIndex < 0 {
		if triggered, err = evalCondition(req.Task, &pipelinespec.ExecutorInput{Inputs: res.Inputs}); err != nil {
			return nil, err
		}
	}
	count, err := loopCount(req, res, triggered)
	if err != nil {
		return nil, err
	}
	exec, created, err := createDAG(ctx, sc, req, res, triggered, count)
	switch {
	case err != nil:
	case exec.State() == pb.Execution_CANCELED:
		err = sc.settle(ctx, created, req.DAGExecutionID)
	case count != nil && *count == 0:
		err = sc.settle(ctx, created, exec.ID())
	}
	if err != nil {
		return nil, err
	}
	return dagResult(req, exec, created, len(res.Inputs.GetParameterValues())+len(res.Inputs.GetArtifacts()), triggered, count), nil
}

func loopOrDAGInputs(ctx context.Context, sc *scope, req *driver.Request) (*inputs.Resolved, error) {
	var skip []string
	if it := iterator(req.Task); it.itemInput != "" {
		skip = append(skip, it.itemInput)
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

func createDAG(ctx context.Context, sc *scope, req *driver.Request, res *inputs.Resolved, triggered *bool, count *int) (*mlmd.Execution, bool, error) {
	props := taskProps(req, res.Inputs.GetParameterValues())
	producers, err := mlmd.ProducerProps(req.Component.GetDag())
	if err != nil {
		return nil, false, err
	}
	for k, v := range producers {
		props[k] = v
	}
	props[mlmd.PropTotalDAGTasks] = mlmd.IntValue(int64(len(req.Component.GetDag().GetTasks())))
	withLogURI(props, sc.logRoot, executionName(req))
	if count != nil {
		props[mlmd.PropIterationCount] = mlmd.IntValue(int64(*count))
	}
	refs, err := mlmd.InputRefs(res.Inputs)
	if err != nil {
		return nil, false, err
	}
	state := pb.Execution_RUNNING
	if triggered != nil && !*triggered {
		state = pb.Execution_CANCELED
	}
	return sc.client.CreateExecution(ctx, sc.run, mlmd.NewExecution{
		TypeName: mlmd.DAGExecutionType, Name: executionName(req), State: state, Props: props, Inputs: refs,
	})
}

// dagResult replies from the execution as stored, so a repeated call that
// found an existing execution answers as the first did.
func dagResult(req *driver.Request, exec *mlmd.Execution, created bool, nInputs int, triggered *bool, count *int) *driver.Result {
	r := &driver.Result{ExecutionID: exec.ID(), IterationCount: ptr(0), Condition: triggered, LogURI: exec.String(mlmd.PropDriverLogsURI)}
	if n, ok := exec.IterationCount(); ok {
		r.IterationCount = ptr(n)
	}
	if triggered != nil {
		r.Condition = ptr(exec.State() != pb.Execution_CANCELED)
	}
	var msg string
	switch {
	case r.Condition != nil && !*r.Condition:
		msg = fmt.Sprintf("%s: condition false: skipped (execution %d)", req.TaskName, exec.ID())
	case count != nil:
		msg = fmt.Sprintf("%s: %d iterations (execution %d)", req.TaskName, *r.IterationCount, exec.ID())
	case req.IterationIndex >= 0:
		msg = fmt.Sprintf("%s: iteration %d, execution %d", req.TaskName, req.IterationIndex, exec.ID())
	default:
		msg = fmt.Sprintf("%s: execution %d, %d inputs resolved", req.TaskName, exec.ID(), nInputs)
	}
	return withMessage(r, again(msg, created))
}

func withMessage(r *driver.Result, msg string) *driver.Result {
	r.Message = msg
	return r
}
