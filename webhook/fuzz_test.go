package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
)

// FuzzAdmission feeds arbitrary bodies to both admission handlers: the
// answer is always 200 with an allowing AdmissionReview, and a patch, when
// there is one, applies to the object it was made for.
func FuzzAdmission(f *testing.F) {
	kfp := loadCorpus(f)[0].json
	f.Add(workflowReview(f, kfp))
	f.Add(workflowReview(f, []byte(plainWorkflow)))
	f.Add(podReview(f, agentPodJSON(agentLabels, "", agentContains)))
	f.Add(podReview(f, agentPodJSON(`{"workflows.argoproj.io/component":"agent"}`, `{"a":"b"}`, agentContains)))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","resource":{"resource":"pods"},"object":{"metadata":{"labels":{"workflows.argoproj.io/component":"agent"}},"spec":{"containers":[{"name":"driver-plugin"}]}}}}`))
	f.Add([]byte("{"))
	srv := newTestServer(adminMetadata)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req admissionv1.AdmissionReview
		_ = json.Unmarshal(body, &req)
		for _, path := range []string{WorkflowsPath, PodsPath} {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
			var out admissionv1.AdmissionReview
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Response == nil || !out.Response.Allowed {
				t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
			}
			if len(out.Response.Patch) == 0 {
				continue
			}
			if req.Request == nil {
				t.Fatalf("%s: patch without a request: %s", path, out.Response.Patch)
			}
			p, err := jsonpatch.DecodePatch(out.Response.Patch)
			if err != nil {
				t.Fatalf("%s: patch does not decode: %v", path, err)
			}
			if _, err := p.Apply(req.Request.Object.Raw); err != nil {
				t.Fatalf("%s: patch does not apply: %v\n%s", path, err, out.Response.Patch)
			}
		}
	})
}
