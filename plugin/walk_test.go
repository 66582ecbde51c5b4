package plugin_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

type token string

func (t token) Check(h string) (bool, error) { return h == "Bearer "+string(t), nil }

// TestRealSpecsThroughHandler walks every real KFP pipeline spec in
// driver/testdata twice, in two identical fresh environments: once calling
// the driver directly, once through the plugin's HTTP handler as Argo's agent
// would (args encoded as KFP compiles them, each call sent twice). Every step
// must decide the same: execution ids, conditions, iteration counts, cache
// decisions, pod spec patches (the resolved executor inputs) and messages.
func TestRealSpecsThroughHandler(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "driver", "testdata", "pipelines", "*.yaml"))
	if len(files) < 20 {
		t.Fatalf("only %d real specs found", len(files))
	}
	direct, viaHTTP := drivertest.NewEnv(t), drivertest.NewEnv(t)
	cfg := plugin.DefaultConfig()
	cfg.Driver, cfg.Auth, cfg.PodNamespace = viaHTTP.Service, token("t0k3n"), drivertest.Namespace
	cfg.Endpoints = viaHTTP.Endpoints
	srv := plugin.New(cfg)
	t.Cleanup(srv.Close)
	httpDriver := &plugintest.HTTPDriver{Handler: srv, Token: "t0k3n"}

	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := drivertest.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			want := walk(t, direct.Walker(p, "run-"+name), p, direct.Service, false)
			got := walk(t, viaHTTP.Walker(p, "run-"+name), p, httpDriver, true)
			if len(got.Steps) != len(want.Steps) {
				t.Fatalf("%d steps through the handler, %d direct", len(got.Steps), len(want.Steps))
			}
			for i, w := range want.Steps {
				g := got.Steps[i]
				if g.Path != w.Path || g.Type != w.Type {
					t.Fatalf("step %d: %s %s, want %s %s", i, g.Type, g.Path, w.Type, w.Path)
				}
				assertSameDecision(t, w, g, direct.Options, viaHTTP.Options)
			}
		})
	}
}

func walk(t *testing.T, w *drivertest.Walker, p *drivertest.Pipeline, d driver.Driver, repeat bool) *drivertest.Trace {
	t.Helper()
	w.Driver, w.Produce, w.Repeat = d, drivertest.Produce, repeat
	trace, err := w.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return trace
}

// assertSameDecision compares what travels through Argo for the step type.
func assertSameDecision(t *testing.T, want, got *drivertest.Step, wantEnv, gotEnv driver.Options) {
	t.Helper()
	wo, go_ := want.Result.Outputs(want.Type), got.Result.Outputs(got.Type)
	// The two environments' servers listen on different loopback ports,
	// which the launcher command in the pod spec patch carries.
	wo[driver.OutputPodSpecPatch] = withoutPorts(wo[driver.OutputPodSpecPatch], wantEnv)
	go_[driver.OutputPodSpecPatch] = withoutPorts(go_[driver.OutputPodSpecPatch], gotEnv)
	if want.Type == driver.Container {
		delete(wo, driver.OutputExecutionID) // CONTAINER templates do not declare it
		if _, ok := wo[driver.OutputCachedDecision]; !ok {
			wo[driver.OutputCachedDecision] = "false" // the template's default
		}
	}
	for k, v := range wo {
		if go_[k] != v {
			t.Errorf("%s %s: output %s differs: %s", got.Type, got.Path, k, firstDifference(go_[k], v))
		}
	}
	if got.Result.Message != want.Result.Message {
		t.Errorf("%s %s: message %q through the handler, %q direct", got.Type, got.Path, got.Result.Message, want.Result.Message)
	}
}

// firstDifference shows both values around where they first differ.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("at byte %d: through the handler ...%.100q, direct ...%.100q", i, got[from:], want[from:])
}

func withoutPorts(patch string, o driver.Options) string {
	return strings.NewReplacer(`"`+o.MLMDPort+`"`, `"MLMD_PORT"`, `"`+o.MLPipelinePort+`"`, `"ML_PIPELINE_PORT"`).Replace(patch)
}
