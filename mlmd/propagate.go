package mlmd

import (
	"context"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// PropagateDAGState updates DAG states bottom-up from dagID as KFP's launcher does:
// a DAG whose expected children (iteration_count, else total_dag_tasks) are
// all done (COMPLETE, CACHED, CANCELED) becomes COMPLETE; one with a failed
// child becomes FAILED; the root (neither property) is left alone.
//
// The launcher calls this after a task ran. The driver calls it where no
// launcher runs (cache hits, skipped tasks, empty loops); KFP does not, so a
// DAG whose last task was a cache hit stays RUNNING there and a oneOf or an
// exit handler reading its state fails.
func (c *Client) PropagateDAGState(ctx context.Context, run *Run, dagID int64) error {
	for dagID != 0 {
		dag, err := c.ParentDAG(ctx, dagID) // only creation-time fields are used
		if err != nil {
			return err
		}
		expected, ok := dag.Int(PropIterationCount)
		if !ok {
			if expected, ok = dag.Int(PropTotalDAGTasks); !ok {
				return nil
			}
		}
		children, err := c.Children(ctx, run, dagID)
		if err != nil {
			return err
		}
		state := dagState(children, int(expected))
		if state == pb.Execution_UNKNOWN {
			return nil // still running; writing again when done is harmless
		}
		e := proto.Clone(dag.Proto).(*pb.Execution)
		e.LastKnownState = state.Enum()
		if err := c.UpdateExecution(ctx, run, e, nil); err != nil {
			return err
		}
		dagID = dag.ParentDAGID()
	}
	return nil
}

func dagState(children []*Execution, expected int) pb.Execution_State {
	statuses := make([]record.Status, len(children))
	for i, c := range children {
		statuses[i] = c.Status()
	}
	switch record.SettledState(statuses, expected) {
	case record.Succeeded:
		return pb.Execution_COMPLETE
	case record.Failed:
		return pb.Execution_FAILED
	}
	return pb.Execution_UNKNOWN
}
