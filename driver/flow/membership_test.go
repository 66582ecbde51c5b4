package flow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// TestParentDAGOfAnotherRunRefused (issue 12, defect 3): a CONTAINER call
// of run R whose dag_execution_id is another run's root DAG fails the same
// way in a process that has already served R as in a fresh one: the
// parent's membership in the run is checked on every call.
func TestParentDAGOfAnotherRunRefused(t *testing.T) {
	env, req := benchRun(t) // env.Service has served run "bench"
	other := walk(t, env, "add_numbers.yaml", "run-other", nil)
	bad := *req
	bad.TaskName = "consume-foreign"
	bad.DAGExecutionID = other.RootID

	fresh := flow.New(flow.Deps{MLMD: mlmd.NewPool(mlmd.Config{}), Endpoints: env.Endpoints})
	for name, svc := range map[string]*flow.Service{"warm": env.Service, "fresh": fresh} {
		for range 2 { // the second call finds whatever the first one cached
			res, err := svc.Run(context.Background(), &bad)
			if err == nil || !strings.Contains(err.Error(), "is not in run") {
				t.Fatalf("%s process: got %+v, %v; want the parent refused as not in run %q", name, res, err, bad.RunID)
			}
		}
	}
	// The run's own parent still passes, and in the warm process without
	// another membership read once it was verified.
	if _, err := env.Service.Run(context.Background(), req); err != nil {
		t.Fatalf("own parent DAG: %v", err)
	}
}
