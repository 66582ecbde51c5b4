package plugin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver/mlmdservertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// TestMetadataOutageThroughHandler: with the MLMD server answering
// UNAVAILABLE, a ROOT_DAG call of a real spec answers Running with the
// transient requeue and writes nothing; once MLMD is back the same call
// succeeds with one root execution.
func TestMetadataOutageThroughHandler(t *testing.T) {
	env := drivertest.NewEnv(t)
	cfg := plugin.DefaultConfig()
	cfg.Driver, cfg.Auth, cfg.PodNamespace = env.Service, token("t0k3n"), drivertest.Namespace
	cfg.Endpoints = env.Endpoints
	cfg.TransientRequeue = 3 * time.Second
	srv := plugin.New(cfg)
	t.Cleanup(srv.Close)

	p, err := drivertest.Load(filepath.Join("..", "driver", "testdata", "pipelines", "add_numbers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	req := env.Walker(p, "run-outage").Base
	req.Type, req.Component = driver.RootDAG, p.Spec.GetRoot()
	req.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{
		"a": structpb.NewNumberValue(1), "b": structpb.NewNumberValue(2),
	}}
	body, err := plugintest.Body(&req)
	if err != nil {
		t.Fatal(err)
	}

	env.MLMDServer.Server.SetUnavailable(true)
	reply := postBody(t, srv, body)
	if reply.Node.Phase != plugin.PhaseRunning || reply.Requeue == nil || time.Duration(*reply.Requeue) != 3*time.Second {
		t.Fatalf("MLMD down: want Running + requeue 3s, got %+v", reply.Node)
	}
	if !strings.Contains(reply.Node.Message, "retrying") {
		t.Fatalf("message should say it will retry: %q", reply.Node.Message)
	}
	env.MLMDServer.Server.SetUnavailable(false)
	if n := countExecutions(t, env); n != 0 {
		t.Fatalf("%d executions written while MLMD was down", n)
	}

	reply = postBody(t, srv, body)
	if reply.Node.Phase != plugin.PhaseSucceeded {
		t.Fatalf("MLMD back: want Succeeded, got %+v", reply.Node)
	}
	if n := countExecutions(t, env); n != 1 {
		t.Fatalf("want exactly the root execution, found %d", n)
	}
}

func postBody(t *testing.T, h http.Handler, body []byte) *plugin.ExecuteReply {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, plugin.ExecutePath, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer t0k3n")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var reply plugin.ExecuteReply
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &reply) != nil || reply.Node == nil {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return &reply
}

func countExecutions(t *testing.T, env *drivertest.Env) int {
	t.Helper()
	resp, err := mlmdservertest.NewClient(t, env.MLMDServer).GetExecutions(t.Context(), &pb.GetExecutionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.GetExecutions())
}
