package flow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// With driver logs kept, every step records where its log goes
// (driver_logs_uri, under the run's pipeline root, one object per
// execution) and answers it, the same on a repeated call; without, none.
func TestDriverLogURIs(t *testing.T) {
	env := drivertest.NewEnv(t)
	env.Service = flow.New(flow.Deps{MLMD: env.Pool, Tasks: env.Tasks, Kube: env.Kube, Endpoints: env.Endpoints, DriverLogs: true})
	trace := walk(t, env, "pipeline_with_loops.yaml", "logs-on", func(w *drivertest.Walker) { w.Repeat = true })
	seen := map[string]int64{}
	for _, s := range trace.Steps {
		uri := s.Result.LogURI
		if !strings.HasPrefix(uri, "minio://") || !strings.Contains(uri, "/logs-on/driver-logs/") || !strings.HasSuffix(uri, ".log") {
			t.Fatalf("%s: LogURI %q, want minio://.../<run>/driver-logs/<id>.log", s.Path, uri)
		}
		if id, dup := seen[uri]; dup && id != s.Result.ExecutionID {
			t.Fatalf("%s: %s shared by executions %d and %d", s.Path, uri, id, s.Result.ExecutionID)
		}
		seen[uri] = s.Result.ExecutionID
		execs, err := env.MLMD.ExecutionsByID(context.Background(), s.Result.ExecutionID)
		if err != nil || len(execs) != 1 {
			t.Fatalf("%s: execution %d: %v", s.Path, s.Result.ExecutionID, err)
		}
		if got := execs[0].String(mlmd.PropDriverLogsURI); got != uri {
			t.Fatalf("%s: recorded %s %q, answered %q", s.Path, mlmd.PropDriverLogsURI, got, uri)
		}
	}

	off := walk(t, drivertest.NewEnv(t), "pipeline_with_loops.yaml", "logs-off", nil)
	for _, s := range off.Steps {
		if s.Result.LogURI != "" {
			t.Fatalf("driver logs off: %s answers %q", s.Path, s.Result.LogURI)
		}
	}
}
