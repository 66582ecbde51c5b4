package flow_test

import (
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// TestIgnoreUpstreamFailureTakesDefault (issue 12, defect 11): print-op
// ignores upstream failures and reads fail-op's output; when fail-op fails,
// print-op still runs, with its input's declared default ("default").
func TestIgnoreUpstreamFailureTakesDefault(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "pipeline_with_task_using_ignore_upstream_failure.yaml", "ignore-failed",
		func(w *drivertest.Walker) { w.Fail = map[string]bool{"fail-op": true} })
	if got := param(t, ran(t, trace, "print-op"), "message"); got != "default" {
		t.Fatalf("print-op message = %v, want the input's default %q", got, "default")
	}
	// When the producer succeeds, its output is used as before.
	ok := walk(t, env, "pipeline_with_task_using_ignore_upstream_failure.yaml", "ignore-ok", nil)
	if got := param(t, ran(t, ok, "print-op"), "message"); got == "default" {
		t.Fatalf("print-op took the default although fail-op succeeded")
	}
}
