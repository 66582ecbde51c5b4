package plugin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// FuzzHandler posts arbitrary bodies to the whole handler, with the real
// driver on the in-memory MLMD server over loopback gRPC. Whatever comes
// in: no panic, no 5xx but 503, every 200 is a JSON reply, and no call
// whose arguments are invalid (rejected by the decoder or the endpoint
// policy) ever answers Succeeded.
//
// `make fuzz` runs it for 60 s; longer: go test -run '^$' -fuzz '^FuzzHandler$' -fuzztime 30m ./plugin
func FuzzHandler(f *testing.F) {
	env := drivertest.NewEnv(f)
	cfg := plugin.DefaultConfig()
	cfg.Driver, cfg.Auth, cfg.PodNamespace, cfg.Endpoints = env.Service, token("t0k3n"), drivertest.Namespace, env.Endpoints
	cfg.Wait, cfg.MaxBodyBytes = 5*time.Second, 64<<10
	s := plugin.New(cfg)
	f.Cleanup(s.Close)
	for _, seed := range handlerSeeds(f, env) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, plugin.ExecutePath, bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer t0k3n")
		rec := httptest.NewRecorder()
		served := make(chan struct{})
		go func() { s.ServeHTTP(rec, r); close(served) }()
		select {
		case <-served:
		case <-time.After(cfg.Wait + 5*time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("no answer within %s for %q\n%s", cfg.Wait+5*time.Second, body, buf[:runtime.Stack(buf, true)])
		}
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusServiceUnavailable:
			return
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var reply plugin.ExecuteReply
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("200 without a JSON reply: %v: %s", err, rec.Body)
		}
		if reply.Node != nil && reply.Node.Phase == plugin.PhaseSucceeded && !argsValid(body, env.Endpoints) {
			t.Fatalf("Succeeded for invalid arguments: %s", body)
		}
		if reply.Node != nil && len(reply.Node.Message) > plugin.MaxMessageBytes {
			t.Fatalf("message of %d bytes", len(reply.Node.Message))
		}
	})
}

// argsValid decodes the body as the handler does and applies the same
// argument checks.
func argsValid(body []byte, ep driver.Endpoints) bool {
	var in plugin.ExecuteRequest
	if json.Unmarshal(body, &in) != nil || in.Template == nil {
		return false
	}
	var pa struct {
		Args map[string]json.RawMessage `json:"args"`
	}
	if json.Unmarshal(in.Template.Plugin[plugin.PluginName], &pa) != nil {
		return false
	}
	_, _, err := plugin.CheckArgs(pa.Args, ep)
	return err == nil
}

// handlerSeeds are real calls (a ROOT_DAG and a CONTAINER of add_numbers,
// as KFP compiles them) and a few hostile ones.
func handlerSeeds(f *testing.F, env *drivertest.Env) [][]byte {
	p, err := drivertest.Load(filepath.Join("..", "driver", "testdata", "pipelines", "add_numbers.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	base := env.Walker(p, "fuzz").Base
	root := base
	root.Type, root.Component = driver.RootDAG, p.Spec.GetRoot()
	root.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{
		"a": structpb.NewNumberValue(1), "b": structpb.NewNumberValue(2),
	}}
	var seeds [][]byte
	seeds = append(seeds, seedBody(f, &root))
	for name, task := range p.Spec.GetRoot().GetDag().GetTasks() {
		c := base
		c.Type, c.Task, c.TaskName, c.DAGExecutionID = driver.Container, task, name, 1
		c.Component = p.Spec.GetComponents()[task.GetComponentRef().GetName()]
		exec := p.Spec.GetDeploymentSpec().GetFields()["executors"].GetStructValue().GetFields()[c.Component.GetExecutorLabel()]
		b, _ := exec.GetStructValue().GetFields()["container"].MarshalJSON()
		c.Container = &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{}
		if err := protojson.Unmarshal(b, c.Container); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, seedBody(f, &c))
		bad := c
		bad.PipelineName = "../../../../evil"
		seeds = append(seeds, seedBody(f, &bad))
		other := c
		other.Options.MLMDAddress, other.Options.CACertPath = "10.0.0.1", "/dev/zero"
		seeds = append(seeds, seedBody(f, &other))
	}
	return append(seeds, []byte(`{}`), []byte(`{"template":{"plugin":{"driver-plugin":{"args":{"type":"ROOT_DAG"}}}}}`), []byte("{"))
}

func seedBody(f *testing.F, req *driver.Request) []byte {
	b, err := plugintest.Body(req)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
