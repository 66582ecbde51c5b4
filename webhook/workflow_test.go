package webhook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
)

// TestCorpusPatchedLikeConvert: for every compiled workflow the webhook's
// patch, applied as the API server applies it, gives exactly what the
// convert command gives plus the record annotation; the patch replaces only
// the driver templates; and the converted workflow gets no patch.
func TestCorpusPatchedLikeConvert(t *testing.T) {
	srv := newTestServer(emptyMetadata())
	for _, wf := range loadCorpus(t) {
		resp := post(t, srv, WorkflowsPath, workflowReview(t, wf.json))
		if len(resp.Warnings) != 0 || len(resp.Patch) == 0 {
			t.Fatalf("%s: warnings %v, patch %d bytes", wf.name, resp.Warnings, len(resp.Patch))
		}
		got := decodeJSON(t, applyPatch(t, wf.json, resp))
		wantYAML, err := convert.Workflow(wf.json, convert.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := yaml.YAMLToJSON(wantYAML)
		want := decodeJSON(t, wantJSON)
		res, _ := convert.Object(decodeJSON(t, wf.json), convert.Options{})
		ann := want["metadata"].(map[string]any)["annotations"]
		if ann == nil {
			ann = map[string]any{}
			want["metadata"].(map[string]any)["annotations"] = ann
		}
		ann.(map[string]any)[ConvertedAnnotation] = strings.Join(res.Names, ",")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: patched workflow differs from convert's", wf.name)
		}
		var ops []patchOp
		if err := json.Unmarshal(resp.Patch, &ops); err != nil {
			t.Fatal(err)
		}
		if len(ops) != len(res.Templates)+1 {
			t.Errorf("%s: %d patch operations for %d converted templates", wf.name, len(ops), len(res.Templates))
		}
		again := post(t, srv, WorkflowsPath, workflowReview(t, mustJSON(t, got)))
		if len(again.Patch) != 0 {
			t.Errorf("%s: a converted workflow was patched again: %s", wf.name, again.Patch)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const plainWorkflow = `{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"hello-"},` +
	`"spec":{"entrypoint":"main","templates":[{"name":"main","container":{"image":"busybox","command":["echo","hi"]}}]}}`

func TestWorkflowsLeftAlone(t *testing.T) {
	kfp := loadCorpus(t)[0].json
	optedOut := strings.Replace(string(kfp), `"metadata":{`, `"metadata":{"annotations":{"`+OptOutAnnotation+`":"false"},`, 1)
	if optedOut == string(kfp) {
		t.Fatal("could not add the opt-out annotation")
	}
	srv := newTestServer(emptyMetadata())
	for name, obj := range map[string]string{"not KFP": plainWorkflow, "opted out": optedOut} {
		resp := post(t, srv, WorkflowsPath, workflowReview(t, []byte(obj)))
		if len(resp.Patch) != 0 || len(resp.Warnings) != 0 || resp.UID != "uid-1" {
			t.Errorf("%s: patch %s, warnings %v, uid %q", name, resp.Patch, resp.Warnings, resp.UID)
		}
	}
}

// TestUnconvertibleWorkflowAllowedWithWarning: a driver template we cannot
// convert (an unknown flag) is not our user's fault: allowed, unchanged,
// with a warning naming the problem.
func TestUnconvertibleWorkflowAllowedWithWarning(t *testing.T) {
	kfp := string(loadCorpus(t)[0].json)
	bad := strings.Replace(kfp, `"--type"`, `"--no_such_flag","x","--type"`, 1)
	if bad == kfp {
		t.Fatal("no --type flag in the corpus workflow")
	}
	resp := post(t, newTestServer(emptyMetadata()), WorkflowsPath, workflowReview(t, []byte(bad)))
	if len(resp.Patch) != 0 || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "no_such_flag") {
		t.Errorf("patch %s, warnings %v", resp.Patch, resp.Warnings)
	}
}

// TestWorkflowPatchWithoutAnnotations: the record annotation is added
// whether the workflow has annotations, none, or a stale record.
func TestWorkflowPatchAnnotationForms(t *testing.T) {
	kfp := string(loadCorpus(t)[0].json)
	srv := newTestServer(emptyMetadata())
	for name, obj := range map[string]string{
		"no annotations":   kfp,
		"annotations":      strings.Replace(kfp, `"metadata":{`, `"metadata":{"annotations":{"a/b~c":"x"},`, 1),
		"stale record":     strings.Replace(kfp, `"metadata":{`, `"metadata":{"annotations":{"`+ConvertedAnnotation+`":"old"},`, 1),
		"null annotations": strings.Replace(kfp, `"metadata":{`, `"metadata":{"annotations":null,`, 1),
	} {
		resp := post(t, srv, WorkflowsPath, workflowReview(t, []byte(obj)))
		got := decodeJSON(t, applyPatch(t, []byte(obj), resp))
		ann, _ := got["metadata"].(map[string]any)["annotations"].(map[string]any)
		if v, _ := ann[ConvertedAnnotation].(string); v == "" || v == "old" {
			t.Errorf("%s: record annotation %q", name, v)
		}
		if name == "annotations" && ann["a/b~c"] != "x" {
			t.Errorf("%s: existing annotation lost: %v", name, ann)
		}
	}
}

// TestNotACreate: an UPDATE or another resource sent by a misconfigured
// webhook configuration is not patched.
func TestNotACreate(t *testing.T) {
	kfp := loadCorpus(t)[0].json
	srv := newTestServer(emptyMetadata())
	body := strings.Replace(string(workflowReview(t, kfp)), `"operation":"CREATE"`, `"operation":"UPDATE"`, 1)
	if resp := post(t, srv, WorkflowsPath, []byte(body)); len(resp.Patch) != 0 {
		t.Errorf("UPDATE patched")
	}
	other := reviewBody(t, "argoproj.io", "v1alpha1", "cronworkflows", "kubeflow", kfp)
	if resp := post(t, srv, WorkflowsPath, other); len(resp.Patch) != 0 {
		t.Errorf("cronworkflow patched")
	}
}

// TestNativeLineWorkflows: by default a workflow of KFP master's native
// line keeps its driver pods, and the webhook says why (annotation,
// warning); with ConvertNativeLine it is patched exactly like convert's
// output. A KFP 2.x workflow converts either way.
func TestNativeLineWorkflows(t *testing.T) {
	native := yamlFileJSON(t, "../convert/testdata/native/compiled-workflows/add_numbers.yaml")

	resp := post(t, newTestServer(emptyMetadata()), WorkflowsPath, workflowReview(t, native))
	got := decodeJSON(t, applyPatch(t, native, resp))
	ann := got["metadata"].(map[string]any)["annotations"].(map[string]any)
	why, _ := ann[NotConvertedAnnotation].(string)
	if !strings.Contains(why, "native line") || !strings.Contains(why, "system-container-driver, system-dag-driver") ||
		!strings.Contains(why, "--convert-native-line") {
		t.Errorf("annotation %q", why)
	}
	if _, ok := ann[ConvertedAnnotation]; ok {
		t.Error("recorded as converted")
	}
	delete(ann, NotConvertedAnnotation)
	if len(ann) == 0 {
		delete(got["metadata"].(map[string]any), "annotations")
	}
	if !reflect.DeepEqual(got, decodeJSON(t, native)) {
		t.Error("the native workflow was changed beyond the annotation")
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "not converted") {
		t.Errorf("warnings %v", resp.Warnings)
	}

	on := NewServer(Workflows{ConvertNativeLine: true}, AgentPods{Metadata: staticSource{md: emptyMetadata()}}, NewMetrics())
	resp = post(t, on, WorkflowsPath, workflowReview(t, native))
	if len(resp.Warnings) != 0 {
		t.Fatalf("warnings %v", resp.Warnings)
	}
	got = decodeJSON(t, applyPatch(t, native, resp))
	wantYAML, err := convert.Workflow(native, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := yaml.YAMLToJSON(wantYAML)
	want := decodeJSON(t, wantJSON)
	want["metadata"].(map[string]any)["annotations"].(map[string]any)[ConvertedAnnotation] = "system-container-driver,system-dag-driver"
	if !reflect.DeepEqual(got, want) {
		t.Error("with --convert-native-line the patched workflow differs from convert's")
	}

	mlmd := loadCorpus(t)[0].json
	for name, srv := range map[string]*Server{"default": newTestServer(emptyMetadata()), "convert-native-line": on} {
		resp := post(t, srv, WorkflowsPath, workflowReview(t, mlmd))
		if len(resp.Patch) == 0 || len(resp.Warnings) != 0 || strings.Contains(string(resp.Patch), NotConvertedAnnotation) {
			t.Errorf("%s: KFP 2.x workflow: patch %d bytes, warnings %v", name, len(resp.Patch), resp.Warnings)
		}
	}
}
