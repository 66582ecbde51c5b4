package pluginconfig

import (
	"os"
	"reflect"
	"testing"

	argospec "github.com/argoproj/argo-workflows/v3/pkg/plugins/spec"
	argoplugins "github.com/argoproj/argo-workflows/v3/workflow/util/plugins"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func loadOrFail(t *testing.T, vars map[string]string) Settings {
	t.Helper()
	s, _, err := Load(Sources{Lookup: env(vars)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConfigMapAcceptedByArgo feeds the rendered YAML through the same
// strict parse and validation Argo's controller applies; a ConfigMap that
// fails there is silently ignored by the controller.
func TestConfigMapAcceptedByArgo(t *testing.T) {
	s := loadOrFail(t, map[string]string{
		EnvPodLabels:      `{"sidecar.istio.io/inject": "true"}`,
		EnvPodAnnotations: `{"proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}"}`,
		EnvLimitsMemory:   "256Mi",
	})
	cm, err := s.ConfigMap("kubeflow")
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	var parsed corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &parsed); err != nil {
		t.Fatal(err)
	}
	p, err := argoplugins.FromConfigMap(&parsed)
	if err != nil {
		t.Fatalf("Argo rejects the ConfigMap: %v", err)
	}
	if p.Name != PluginName || p.Kind != "ExecutorPlugin" || !p.Spec.Sidecar.AutomountServiceAccountToken {
		t.Fatalf("Argo reads it as %q kind %q automount %v", p.Name, p.Kind, p.Spec.Sidecar.AutomountServiceAccountToken)
	}
	c := p.Spec.Sidecar.Container
	if c.Ports[0].ContainerPort != Port || c.Resources.Limits.Memory().String() != "256Mi" {
		t.Fatalf("container not as configured: %+v", c)
	}
	sc := c.SecurityContext
	// Issue 12, defect 10: never group 0; uid 8737 still owns Argo's token
	// file (0440), so it stays readable.
	if sc.RunAsGroup == nil || *sc.RunAsGroup == 0 || *sc.RunAsGroup != SidecarGID {
		t.Fatalf("runAsGroup %v: want %d, not root's group", sc.RunAsGroup, SidecarGID)
	}
	if *sc.RunAsUser != ArgoTokenUID || !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities.Drop[0] != "ALL" || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Fatalf("security context too weak: %+v", sc)
	}
	if c.Env[0].Name != "POD_NAMESPACE" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Fatalf("POD_NAMESPACE must come from the downward API: %+v", c.Env)
	}
	md, err := ReadPodMetadata(parsed.Annotations)
	if err != nil {
		t.Fatal(err)
	}
	if md.Labels["sidecar.istio.io/inject"] != "true" || md.Annotations["proxy.istio.io/config"] == "" {
		t.Fatalf("pod metadata did not travel on the ConfigMap: %+v", md)
	}
}

// TestPluginYAMLMatchesConfigMap keeps plugin.yaml (for `argo executor-plugin
// build`) and the default `configmap` output from drifting apart.
func TestPluginYAMLMatchesConfigMap(t *testing.T) {
	b, err := os.ReadFile("../plugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var p argospec.Plugin
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		t.Fatalf("plugin.yaml: %v", err)
	}
	built, err := argoplugins.ToConfigMap(&p) // what `argo executor-plugin build` does
	if err != nil {
		t.Fatalf("argo would not build plugin.yaml: %v", err)
	}
	ours, err := loadOrFail(t, nil).ConfigMap("")
	if err != nil {
		t.Fatal(err)
	}
	if built.Name != ours.Name {
		t.Fatalf("ConfigMap name %q from plugin.yaml, %q from configmap", built.Name, ours.Name)
	}
	var fromPlugin, fromUs corev1.Container
	if err := yaml.Unmarshal([]byte(built.Data["sidecar.container"]), &fromPlugin); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(ours.Data["sidecar.container"]), &fromUs); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromPlugin, fromUs) {
		t.Fatalf("plugin.yaml drifted from the rendered ConfigMap; regenerate with `kfp-driver-plugin configmap --format plugin > plugin.yaml`")
	}
	if built.Data["sidecar.automountServiceAccountToken"] != ours.Data["sidecar.automountServiceAccountToken"] {
		t.Fatal("automountServiceAccountToken differs")
	}
}

func TestReadPodMetadataRefilters(t *testing.T) {
	md, err := ReadPodMetadata(map[string]string{
		PodLabelsAnnotation: `{"workflows.argoproj.io/workflow": "spoof", "team": "a"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	assertMap(t, "labels", md.Labels, map[string]string{"team": "a"})
	if _, err := ReadPodMetadata(map[string]string{PodAnnotationsAnnotation: `{"a": 1}`}); err == nil {
		t.Fatal("a non-string value must be an error")
	}
}
