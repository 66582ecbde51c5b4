package flow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

// TestTLSAgainstPlainTextIsPermanent (issue 12, defect 7): TLS to a
// plain-text MLMD or ml-pipeline server is a configuration error no retry
// fixes: the call fails at once (not transient) and says why.
func TestTLSAgainstPlainTextIsPermanent(t *testing.T) {
	env := drivertest.NewEnv(t)
	p := load(t, "parameter_cache.yaml") // its tasks look the cache up
	for name, mutate := range map[string]func(*driver.Endpoints){
		"metadata":                   func(e *driver.Endpoints) { e.MetadataTLS = true },
		"ml-pipeline (cache lookup)": func(e *driver.Endpoints) { e.MLPipelineTLS = true },
	} {
		ep := env.Endpoints
		mutate(&ep)
		w := env.Walker(p, "tls-"+name)
		w.Produce = drivertest.Produce
		w.Driver = flow.New(flow.Deps{MLMD: mlmd.NewPool(mlmd.Config{}), Tasks: &mlpipeline.Pool{}, Endpoints: ep})
		_, err := w.Run(context.Background(), p)
		if err == nil || driver.IsTransient(err) || !strings.Contains(err.Error(), "handshake") {
			t.Errorf("%s TLS against plain text: got %v (transient %v), want a permanent handshake error", name, err, driver.IsTransient(err))
		}
	}
}

// TestNativeLineIsRefusedClearly: until the native backend exists, a call
// of KFP master's native line fails at once, permanently, saying why, and
// writes nothing to MLMD.
func TestNativeLineIsRefusedClearly(t *testing.T) {
	env := drivertest.NewEnv(t)
	before, err := env.Service.MLMDClient()
	if err != nil {
		t.Fatal(err)
	}
	calls := before.Calls()
	for _, typ := range []driver.Type{driver.RootDAG, driver.DAG, driver.Container} {
		_, err := env.Service.Run(context.Background(), &driver.Request{Type: typ, Line: driver.LineNative,
			PipelineName: "p", RunID: "r", TaskName: "t", ParentTaskID: "3f2c", Namespace: "ns", IterationIndex: -1})
		if err == nil || driver.IsTransient(err) || !strings.Contains(err.Error(), "native") {
			t.Errorf("%s on the native line: %v (transient %v), want a permanent error naming the native line", typ, err, driver.IsTransient(err))
		}
	}
	if got := before.Calls(); got != calls {
		t.Errorf("%d MLMD calls for refused native-line calls, want 0", got-calls)
	}
}
