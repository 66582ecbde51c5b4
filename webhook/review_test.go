package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMalformedReviewsAllowed: whatever arrives is answered 200, allowed,
// without a patch and with a warning; never a panic or an error status.
func TestMalformedReviewsAllowed(t *testing.T) {
	srv := newTestServer(emptyMetadata())
	bodies := map[string][]byte{
		"empty":            nil,
		"not JSON":         []byte("{"),
		"array":            []byte("[]"),
		"wrong apiVersion": []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}`),
		"no request":       []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`),
		"too large":        append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"`), bytes.Repeat([]byte("a"), MaxRequestBytes)...),
	}
	objects := map[string]string{
		"object not JSON": `"x"`,
		"object array":    `[1]`,
		"object null":     `null`,
		"no object":       ``,
		"trailing data":   `{"kind":"Workflow"} {}`,
	}
	workflows := map[string]string{
		"spec not an object": `{"kind":"Workflow","spec":[]}`,
		"templates wrong":    `{"kind":"Workflow","spec":{"templates":{"a":1}}}`,
		"not a Workflow":     `{"kind":"Pod","spec":{"templates":[]}}`,
	}
	pods := map[string]string{
		"labels not strings": `{"metadata":{"labels":{"a":1}}}`,
		"containers wrong":   `{"metadata":{"labels":{}},"spec":{"containers":{}}}`,
	}
	for _, path := range []string{WorkflowsPath, PodsPath} {
		for name, obj := range objects {
			bodies[path+" "+name] = wrapFor(t, path, obj)
		}
	}
	for name, obj := range workflows {
		bodies["workflow "+name] = wrapFor(t, WorkflowsPath, obj)
	}
	for name, obj := range pods {
		bodies["pod "+name] = wrapFor(t, PodsPath, obj)
	}
	for name, body := range bodies {
		for _, path := range []string{WorkflowsPath, PodsPath} {
			if strings.HasPrefix(name, "/") && !strings.HasPrefix(name, path) ||
				strings.HasPrefix(name, "workflow ") && path != WorkflowsPath || strings.HasPrefix(name, "pod ") && path != PodsPath {
				continue
			}
			resp := post(t, srv, path, body)
			if len(resp.Patch) != 0 || len(resp.Warnings) == 0 {
				t.Errorf("%s %s: patch %s, warnings %v", path, name, resp.Patch, resp.Warnings)
			}
		}
	}
}

// wrapFor wraps obj in the review the API server sends to path; an empty
// obj leaves the object out.
func wrapFor(t *testing.T, path, obj string) []byte {
	body := workflowReview(t, []byte(`{}`))
	if path == PodsPath {
		body = podReview(t, []byte(`{}`))
	}
	if obj == "" {
		return bytes.Replace(body, []byte(`,"object":{}`), nil, 1)
	}
	return bytes.Replace(body, []byte(`"object":{}`), []byte(`"object":`+obj), 1)
}

func TestHealthReadinessMetrics(t *testing.T) {
	srv := newTestServer(emptyMetadata())
	ready := false
	srv.AddReadyCheck(func() bool { return ready })
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz %d", code)
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before ready: %d", code)
	}
	ready = true
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz when ready: %d", code)
	}
	srv.Drain()
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %d", code)
	}
	if code, _ := get(WorkflowsPath); code != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %d", WorkflowsPath, code)
	}
	post(t, srv, WorkflowsPath, workflowReview(t, loadCorpus(t)[0].json))
	post(t, srv, WorkflowsPath, workflowReview(t, []byte(plainWorkflow)))
	post(t, srv, WorkflowsPath, []byte("{"))
	code, body := get("/metrics")
	for _, want := range []string{
		`kfp_driver_plugin_webhook_admissions_total{kind="workflow",outcome="patched"} 1`,
		`kfp_driver_plugin_webhook_admissions_total{kind="workflow",outcome="unchanged"} 1`,
		`kfp_driver_plugin_webhook_admissions_total{kind="workflow",outcome="invalid"} 1`,
		`kfp_driver_plugin_webhook_admission_duration_seconds_count{kind="workflow"} 3`,
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
}

// TestPanicAnsweredAllowed: a bug in a mutator becomes an allowed answer
// with a warning, not a dropped connection.
func TestPanicAnsweredAllowed(t *testing.T) {
	m := NewMetrics()
	h := &reviewHandler[workflowHead]{kind: "workflow", group: "argoproj.io", resource: "workflows", metrics: m,
		mutate: func(string, *workflowHead) mutation { panic("boom") }}
	resp := post(t, h, WorkflowsPath, workflowReview(t, []byte(plainWorkflow)))
	if resp.UID != "uid-1" || len(resp.Patch) != 0 || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "boom") {
		t.Errorf("answer %+v", resp)
	}
	if n := testutil.ToFloat64(m.admissions.WithLabelValues("workflow", outcomeInvalid)); n != 1 {
		t.Errorf("invalid outcomes %v", n)
	}
}
