package plugin_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// TestDistinctAddressesOpenNoConnections (issue 12, defect 2): calls naming
// 200 distinct MLMD and ml-pipeline addresses through the handler, with the
// real driver, fail naming the argument and open no connection; the
// driver's pool keeps at most the configured one and goroutines stay flat.
func TestDistinctAddressesOpenNoConnections(t *testing.T) {
	env := drivertest.NewEnv(t)
	cfg := plugin.DefaultConfig()
	cfg.Driver, cfg.Auth, cfg.PodNamespace, cfg.Endpoints = env.Service, token("t0k3n"), drivertest.Namespace, env.Endpoints
	srv := plugin.New(cfg)
	t.Cleanup(srv.Close)
	p, err := drivertest.Load(filepath.Join("..", "driver", "testdata", "pipelines", "add_numbers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := env.Walker(p, "run-addresses").Base
	base.Type, base.Component = driver.RootDAG, p.Spec.GetRoot()
	base.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{
		"a": structpb.NewNumberValue(1), "b": structpb.NewNumberValue(2),
	}}
	before := runtime.NumGoroutine()
	for i := range 200 {
		req := base
		req.RunID = fmt.Sprintf("run-%d", i)
		arg := "mlmd_server_address"
		if i%2 == 0 {
			req.Options.MLMDAddress = fmt.Sprintf("10.1.%d.%d", i/250, i%250)
		} else {
			arg = "ml_pipeline_server_address"
			req.Options.MLPipelineAddress = fmt.Sprintf("svc-%d.ns.svc", i)
		}
		body, err := plugintest.Body(&req)
		if err != nil {
			t.Fatal(err)
		}
		reply := postBody(t, srv, body)
		if reply.Node.Phase != plugin.PhaseFailed || !strings.Contains(reply.Node.Message, `argument "`+arg+`"`) {
			t.Fatalf("call %d: want Failed naming %s, got %+v", i, arg, reply.Node)
		}
	}
	if n := env.Pool.Len(); n > 1 {
		t.Fatalf("the driver's MLMD pool holds %d connections, want at most the configured one", n)
	}
	if after := runtime.NumGoroutine(); after > before+20 {
		t.Fatalf("goroutines %d -> %d after 200 calls naming other addresses", before, after)
	}
}
