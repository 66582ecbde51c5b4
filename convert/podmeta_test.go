package convert

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// renderedConfigMap is what `kfp-driver-plugin configmap` writes for an
// admin who set DRIVER_POD_LABELS / DRIVER_POD_ANNOTATIONS.
func renderedConfigMap(t *testing.T, labels, annotations string) []byte {
	t.Helper()
	env := map[string]string{pluginconfig.EnvPodLabels: labels, pluginconfig.EnvPodAnnotations: annotations}
	s, _, err := pluginconfig.Load(pluginconfig.Sources{Lookup: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := s.ConfigMap("kubeflow")
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPodMetadataMergeKeepsWorkflowKeys(t *testing.T) {
	md, err := PodMetadataFromConfigMap(renderedConfigMap(t,
		`{"team":"admin","cost-center":"42"}`, `{"sidecar.istio.io/inject":"false"}`))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Replace(readCorpusFile(t, "add_numbers.yaml"),
		"    labels:\n      pipelines.kubeflow.org/v2_component: \"true\"\n",
		"    labels:\n      pipelines.kubeflow.org/v2_component: \"true\"\n      team: from-workflow\n", 1)
	out, err := Workflow([]byte(in), Options{PodMetadata: md})
	if err != nil {
		t.Fatal(err)
	}
	got := mustDecode(t, out)["spec"].(map[string]any)["podMetadata"]
	want := map[string]any{
		"labels":      map[string]any{"pipelines.kubeflow.org/v2_component": "true", "team": "from-workflow", "cost-center": "42"},
		"annotations": map[string]any{"pipelines.kubeflow.org/v2_component": "true", "sidecar.istio.io/inject": "false"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("podMetadata = %v, want %v", got, want)
	}
}

func TestPodMetadataCreatedWhenAbsent(t *testing.T) {
	spec := map[string]any{}
	md := pluginconfig.PodMetadata{Labels: map[string]string{"a": "1"}}
	if changed, err := mergePodMetadata(spec, md); err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	want := map[string]any{"podMetadata": map[string]any{"labels": map[string]any{"a": "1"}}}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("spec = %v, want %v", spec, want)
	}
	// Nothing to add: the workflow stays as it was, without an empty podMetadata.
	spec = map[string]any{}
	if changed, err := mergePodMetadata(spec, pluginconfig.PodMetadata{}); err != nil || changed || len(spec) != 0 {
		t.Errorf("spec = %v, changed %v, err %v", spec, changed, err)
	}
	// Every key already set: not a change.
	spec = map[string]any{"podMetadata": map[string]any{"labels": map[string]any{"a": "mine"}}}
	if changed, err := mergePodMetadata(spec, md); err != nil || changed {
		t.Errorf("changed %v, err %v", changed, err)
	}
}

func TestPodMetadataFromOtherConfigMap(t *testing.T) {
	_, err := PodMetadataFromConfigMap([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kfp-launcher}\ndata: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "want a ConfigMap labelled workflows.argoproj.io/configmap-type=ExecutorPlugin") {
		t.Errorf("error %v", err)
	}
}
