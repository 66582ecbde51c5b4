package flow

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	cond "github.com/kfp-driver-plugin/kfp-driver-plugin/driver/condition"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// scope is what DAG and CONTAINER steps share: the call's view of its run
// and an input resolver over it.
type scope struct {
	call     record.Call
	resolver *inputs.Resolver
}

// scope opens the call on its backend; the request it returns carries the
// specs the line keeps in its store.
func (s *Service) scope(ctx context.Context, b record.Backend, req *driver.Request) (*scope, *driver.Request, error) {
	call, err := b.Open(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	req = call.Request()
	if err := validateSpecs(req); err != nil {
		return nil, nil, err
	}
	return &scope{call: call, resolver: inputs.New(call.Store(), call.Parent(), job(req, call.Parent()))}, req, nil
}

func job(req *driver.Request, parent record.Task) inputs.Job {
	return inputs.Job{
		RunID: req.RunID, RunName: req.RunName, RunDisplayName: req.RunDisplayName,
		TaskName: req.TaskName, ParentRef: parent.Ref(),
		CreateTime: req.PipelineJobCreateTime, ScheduleTime: scheduleTime(req.ScheduleTimeEpochSecs),
	}
}

func scheduleTime(epoch string) string {
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || epoch == "" {
		return ""
	}
	return time.Unix(secs, 0).UTC().Format(time.RFC3339)
}

// evalCondition evaluates the task's trigger condition; nil when it has none.
func evalCondition(task *pipelinespec.PipelineTaskSpec, in *pipelinespec.ExecutorInput) (*bool, error) {
	expr := task.GetTriggerPolicy().GetCondition()
	if expr == "" {
		return nil, nil
	}
	ok, err := cond.Eval(expr, in)
	if err != nil {
		return nil, fmt.Errorf("task %q: trigger condition: %w", task.GetTaskInfo().GetName(), err)
	}
	return &ok, nil
}

func ptr[T any](v T) *T { return &v }

// settle brings DAG states up to date after a step that ends without a
// launcher run (a cache hit, a skipped task, an empty loop), as KFP's
// launcher would after a run. Only the call that wrote the record does.
func (sc *scope) settle(ctx context.Context, w *record.Written, dag string) error {
	if !w.Created {
		return nil
	}
	return sc.call.Settle(ctx, dag)
}

// result starts a step's reply from its stored record.
func result(w *record.Written) *driver.Result {
	return &driver.Result{ExecutionID: w.ExecutionID, TaskID: w.TaskID, LogURI: w.LogURI}
}
