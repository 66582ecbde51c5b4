package argov4

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/pkg/plugins/executor"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

type bearer string

func (b bearer) Check(header string) (bool, error) { return header == "Bearer "+string(b), nil }

// Calls as KFP compiles them: a KFP 2.x CONTAINER call and a KFP master DAG call.
var (
	mlmdContainer = map[string]any{
		"type": "CONTAINER", "pipeline_name": "add-numbers", "run_id": "uid-1", "task_name": "add", "dag_execution_id": "12",
		"component": `{"executorLabel":"exec-add"}`, "task": `{"taskInfo":{"name":"add"}}`,
		"container": `{"image":"python:3.11"}`, "iteration_index": "-1", "kubernetes_config": "",
	}
	nativeDAG = map[string]any{
		"type": "DAG", "pipeline_name": "add-numbers", "run_id": "uid-1", "task_name": "loop", "parent_task_id": "task-1",
		"iteration_index": "-1", "runtime_config": "", "namespace": "$(NAMESPACE)",
	}
)

func supplied(name string, def *string) wfv1.Parameter {
	return wfv1.Parameter{Name: name, ValueFrom: &wfv1.ValueFrom{Default: (*wfv1.AnyString)(def), Supplied: &wfv1.SuppliedValueFrom{}}}
}

func str(s string) *string { return &s }

// TestArgoV4WireTypes is plugin's TestArgoWireTypes against v4: a request
// built from v4's ExecuteTemplateArgs, the reply read as v4's
// ExecuteTemplateReply, for a call of each KFP line.
func TestArgoV4WireTypes(t *testing.T) {
	cached := false
	cfg := plugin.DefaultConfig()
	cfg.Auth, cfg.PodNamespace, cfg.Wait = bearer("tok"), "team-a", 2*time.Second
	cfg.Driver = driver.Func(func(_ context.Context, req *driver.Request) (*driver.Result, error) {
		if req.Line == driver.LineNative {
			if req.Namespace != "team-a" || req.ParentTaskID != "task-1" {
				t.Errorf("native request namespace %q parent %q", req.Namespace, req.ParentTaskID)
			}
			return &driver.Result{TaskID: "task-2", Message: "dag"}, nil
		}
		return &driver.Result{CachedDecision: &cached, PodSpecPatch: `{"containers":[]}`, Message: "container"}, nil
	})
	s := plugin.New(cfg)
	defer s.Close()

	for _, tc := range []struct {
		name     string
		args     map[string]any
		template string
		outputs  []wfv1.Parameter
		want     map[string]string
	}{
		{"mlmd container", mlmdContainer, "system-container-driver",
			[]wfv1.Parameter{supplied("pod-spec-patch", str("")), supplied("cached-decision", str("false")), supplied("condition", str("true"))},
			map[string]string{"pod-spec-patch": `{"containers":[]}`, "cached-decision": "false", "condition": "nil"}},
		{"native dag", nativeDAG, "system-dag-driver",
			[]wfv1.Parameter{supplied("parent-dag-task-id-path", nil), supplied("iteration-count", str("0")), supplied("condition", str("true"))},
			map[string]string{"parent-dag-task-id-path": "task-2", "iteration-count": "0", "condition": "nil"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pluginJSON, _ := json.Marshal(map[string]any{plugin.PluginName: map[string]any{"args": tc.args}})
			args := executor.ExecuteTemplateArgs{
				Workflow: &executor.Workflow{ObjectMeta: executor.ObjectMeta{Name: "wf", Namespace: "team-a", UID: "uid-1"}},
				Template: &wfv1.Template{Name: tc.template, Plugin: &wfv1.Plugin{Object: wfv1.Object{Value: pluginJSON}},
					Outputs: wfv1.Outputs{Parameters: tc.outputs}},
			}
			b, err := json.Marshal(args)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, plugin.ExecutePath, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer tok")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			var reply executor.ExecuteTemplateReply
			if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
				t.Fatalf("Argo v4 cannot decode our reply: %v: %s", err, rec.Body)
			}
			if reply.Node == nil || reply.Node.Phase != wfv1.NodeSucceeded || reply.Node.Outputs == nil {
				t.Fatalf("unexpected reply %s", rec.Body)
			}
			got := map[string]string{}
			for _, p := range reply.Node.Outputs.Parameters {
				got[p.Name] = p.Value.String()
			}
			if len(got) != len(tc.want) {
				t.Fatalf("outputs %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("output %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}

	// A running reply's requeue must parse as v4's metav1.Duration.
	d := plugin.Duration(1500 * time.Millisecond)
	rb, _ := json.Marshal(plugin.ExecuteReply{Node: &plugin.NodeResult{Phase: plugin.PhaseRunning}, Requeue: &d})
	var running executor.ExecuteTemplateReply
	if err := json.Unmarshal(rb, &running); err != nil || running.GetRequeue().Milliseconds() != 1500 || running.Node.Phase != wfv1.NodeRunning {
		t.Fatalf("running reply not understood by Argo v4: %v %s", err, rb)
	}
}
