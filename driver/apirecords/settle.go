package apirecords

import (
	"context"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// Settle updates DAG task states bottom-up from dag (an iteration settles
// its loop).
func (c *call) Settle(ctx context.Context, dag string) error {
	dag, _, _ = splitRef(dag)
	return SettleDAGs(ctx, c.client, c.req.RunID, dag, c.spec().component, c.b.Now)
}

// SettleDAGs updates DAG task states bottom-up from dag, as KFP's launcher
// does after a task ran and this driver does after a step that runs no
// launcher: a DAG whose expected children (the tasks of its DAG spec,
// found by scope path with component; for a loop, whose iterations' tasks
// are all its children, that many per iteration) are all done (succeeded,
// cached, skipped) succeeds; one with a failed child fails
// (record.SettledState); the root is left to the API server. Shared with
// the launcher stand-ins (kfpapi/publish).
func SettleDAGs(ctx context.Context, c *kfpapi.Client, runID, dag string,
	component func(scope string) (*pipelinespec.ComponentSpec, error), now func() time.Time) error {
	for dag != "" {
		t, err := c.GetTask(ctx, runID, dag)
		if err != nil {
			return err
		}
		if t.GetType() == pb.PipelineTask_ROOT {
			return nil
		}
		comp, err := component(t.GetScopePath())
		if err != nil {
			return err
		}
		expected := len(comp.GetDag().GetTasks())
		if isLoop(t) { // each iteration runs the body's tasks
			expected *= int(t.GetTypeAttributes().GetIterationCount())
		}
		kids, err := c.Children(ctx, runID, []string{dag})
		if err != nil {
			return err
		}
		state := dagState(kids, expected)
		if state == pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED {
			return nil // still running; writing again when done is harmless
		}
		if now == nil {
			now = time.Now
		}
		if _, err := c.UpdateTask(ctx, &pb.PipelineTask{TaskId: dag, RunId: runID, State: state,
			EndTime: timestamppb.New(now().Truncate(time.Second))}); err != nil {
			return err
		}
		dag = t.GetParentTaskId()
	}
	return nil
}

// dagState is the state to record for a DAG with these children; unset
// while it is not settled.
func dagState(kids []*pb.PipelineTask, expected int) pb.PipelineTask_TaskState {
	statuses := make([]record.Status, len(kids))
	for i, k := range kids {
		statuses[i] = (&task{t: k}).Status()
	}
	switch record.SettledState(statuses, expected) {
	case record.Succeeded:
		return pb.PipelineTask_SUCCEEDED
	case record.Failed:
		return pb.PipelineTask_FAILED
	}
	return pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED
}
