package apirecords

import (
	"context"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// Settle updates DAG task states bottom-up from dag, as KFP's launcher
// does after a task ran: a DAG whose expected children (its iteration
// count for a loop, else the tasks of its DAG spec) are all done
// (succeeded, cached, skipped) succeeds; one with a failed child fails;
// the root is left to the API server.
func (c *call) Settle(ctx context.Context, dag string) error {
	dag, _, _ = splitRef(dag) // an iteration settles its loop
	for dag != "" {
		t, err := c.client.GetTask(ctx, c.req.RunID, dag)
		if err != nil {
			return err
		}
		if t.GetType() == pb.PipelineTask_ROOT {
			return nil
		}
		comp, err := c.spec().component(t.GetScopePath())
		if err != nil {
			return err
		}
		expected := len(comp.GetDag().GetTasks())
		if isLoop(t) { // each iteration runs the body's tasks
			expected *= int(t.GetTypeAttributes().GetIterationCount())
		}
		kids, err := c.client.Children(ctx, c.req.RunID, []string{dag})
		if err != nil {
			return err
		}
		state := dagState(kids, expected)
		if state == pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED {
			return nil // still running; writing again when done is harmless
		}
		if _, err := c.client.UpdateTask(ctx, &pb.PipelineTask{TaskId: dag, RunId: c.req.RunID, State: state, EndTime: c.b.createTime()}); err != nil {
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
