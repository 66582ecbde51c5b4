package plugin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/pkg/plugins/executor"
)

// TestArgoWireTypes sends a request built from Argo's own types and decodes
// the reply with them, so our narrow wire types cannot drift from Argo's.
func TestArgoWireTypes(t *testing.T) {
	cached := "false"
	pluginJSON, _ := json.Marshal(map[string]any{PluginName: map[string]any{"args": validArgs()}})
	args := executor.ExecuteTemplateArgs{
		Workflow: &executor.Workflow{ObjectMeta: executor.ObjectMeta{Name: "wf", Namespace: "team-a", UID: "uid-1"}},
		Template: &wfv1.Template{
			Name:   "system-container-driver",
			Plugin: &wfv1.Plugin{Object: wfv1.Object{Value: pluginJSON}},
			Outputs: wfv1.Outputs{Parameters: []wfv1.Parameter{
				{Name: "pod-spec-patch", ValueFrom: &wfv1.ValueFrom{Default: wfv1.AnyStringPtr("")}},
				{Name: "cached-decision", Default: wfv1.AnyStringPtr(cached), ValueFrom: &wfv1.ValueFrom{Default: wfv1.AnyStringPtr(cached)}},
				{Name: "condition", ValueFrom: &wfv1.ValueFrom{Default: wfv1.AnyStringPtr("true")}},
			}},
		},
	}
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, &countingDriver{})
	req := httptest.NewRequest(http.MethodPost, ExecutePath, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var reply executor.ExecuteTemplateReply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("Argo cannot decode our reply: %v: %s", err, rec.Body)
	}
	if reply.Node == nil || reply.Node.Phase != wfv1.NodeSucceeded {
		t.Fatalf("unexpected reply %s", rec.Body)
	}
	var condition string
	for _, p := range reply.Node.Outputs.Parameters {
		if p.Name == "condition" && p.Value != nil {
			condition = p.Value.String()
		}
	}
	if condition != "nil" {
		t.Fatalf("condition output missing: %s", rec.Body)
	}

	// A running reply's requeue must parse as Argo's metav1.Duration.
	d := Duration(1500 * 1e6)
	rb, _ := json.Marshal(ExecuteReply{Node: &NodeResult{Phase: PhaseRunning}, Requeue: &d})
	var running executor.ExecuteTemplateReply
	if err := json.Unmarshal(rb, &running); err != nil || running.GetRequeue().Milliseconds() != 1500 {
		t.Fatalf("requeue not understood by Argo: %v %s", err, rb)
	}
}
