package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

const corpusDir = "../convert/testdata/compiled-workflows"

type corpusWorkflow struct {
	name string
	json []byte // the compiled YAML as JSON, as the API server sends it
}

func loadCorpus(t testing.TB) []corpusWorkflow {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("corpus in %s: %v (%d files)", corpusDir, err, len(paths))
	}
	sort.Strings(paths)
	out := make([]corpusWorkflow, len(paths))
	for i, p := range paths {
		out[i] = corpusWorkflow{name: filepath.Base(p), json: yamlFileJSON(t, p)}
	}
	return out
}

func yamlFileJSON(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return j
}

// staticSource is a PodMetadataSource with fixed contents.
type staticSource struct {
	md  pluginconfig.PodMetadata
	err error
}

func (s staticSource) PodMetadata() (pluginconfig.PodMetadata, error) { return s.md, s.err }

func newTestServer(md pluginconfig.PodMetadata) *Server {
	return NewServer(Workflows{}, AgentPods{Metadata: staticSource{md: md}}, NewMetrics())
}

// reviewBody wraps an object in an AdmissionReview request as the API
// server sends it.
func reviewBody(t testing.TB, group, version, resource, namespace string, obj []byte) []byte {
	t.Helper()
	r := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "uid-1",
			Kind:      metav1.GroupVersionKind{Group: group, Version: version},
			Resource:  metav1.GroupVersionResource{Group: group, Version: version, Resource: resource},
			Namespace: namespace, Operation: admissionv1.Create,
			Object: runtime.RawExtension{Raw: obj},
		},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func workflowReview(t testing.TB, obj []byte) []byte {
	return reviewBody(t, "argoproj.io", "v1alpha1", "workflows", "kubeflow", obj)
}

func podReview(t testing.TB, obj []byte) []byte {
	return reviewBody(t, "", "v1", "pods", "kubeflow", obj)
}

// post sends body to path and returns the decoded answer; the HTTP status
// must be 200 and the answer an allowing AdmissionReview.
func post(t testing.TB, h http.Handler, path string, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
		t.Fatalf("answer %s", rec.Body)
	}
	if !out.Response.Allowed {
		t.Fatalf("not allowed: %s", rec.Body)
	}
	return out.Response
}

// applyPatch applies an answer's patch to obj (no patch: obj).
func applyPatch(t testing.TB, obj []byte, resp *admissionv1.AdmissionResponse) []byte {
	t.Helper()
	if len(resp.Patch) == 0 {
		return obj
	}
	if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("patch type %v", resp.PatchType)
	}
	p, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatalf("decode patch: %v", err)
	}
	out, err := p.Apply(obj)
	if err != nil {
		t.Fatalf("apply patch: %v\n%s", err, resp.Patch)
	}
	return out
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
