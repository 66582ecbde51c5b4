package manifests

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

// rendered is what `go run . configmap` prints with no settings: main's
// configmap command is Load + ConfigMap + yaml.Marshal, as here.
func rendered(t *testing.T, src pluginconfig.Sources) []byte {
	t.Helper()
	s, _, err := pluginconfig.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := s.ConfigMap("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withoutHeader drops the leading comment lines of a generated file.
func withoutHeader(b []byte) []byte {
	for bytes.HasPrefix(b, []byte("#")) {
		_, b, _ = bytes.Cut(b, []byte("\n"))
	}
	return b
}

func TestBasePluginConfigMap(t *testing.T) {
	file, err := os.ReadFile("base/plugin-configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := rendered(t, pluginconfig.Sources{})
	if got := withoutHeader(file); !bytes.Equal(got, want) {
		t.Fatalf("base/plugin-configmap.yaml is not the defaults' rendering; regenerate it with\n"+
			"  go run . configmap (below its header)\nwant:\n%s\ngot:\n%s", want, got)
	}
}

// wantRules are the plugin's permissions, nothing more.
var wantRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"create", "get", "delete"}},
	{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"kfp-launcher"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"mlpipeline-minio-artifact"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"}, ResourceNames: []string{"default-editor", "pipeline-runner"}, Verbs: []string{"create"}},
}

// wantAgentRules are what Argo's agent container needs, nothing more.
var wantAgentRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflowtasksets"}, Verbs: []string{"list", "watch"}},
	{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflowtasksets/status"}, Verbs: []string{"patch"}},
}

func TestClusterRole(t *testing.T) {
	checkClusterRole(t, "base/clusterrole.yaml", profile.DefaultClusterRole, wantRules)
}

func TestAgentClusterRole(t *testing.T) {
	checkClusterRole(t, "base/agent-clusterrole.yaml", pluginconfig.AgentClusterRole, wantAgentRules)
}

func checkClusterRole(t *testing.T, file, name string, want []rbacv1.PolicyRule) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(withoutHeader(b), &role); err != nil {
		t.Fatal(err)
	}
	if role.Name != name {
		t.Errorf("ClusterRole %q, the installs bind %q", role.Name, name)
	}
	if !reflect.DeepEqual(role.Rules, want) {
		t.Errorf("rules\n%v\nwant\n%v", role.Rules, want)
	}
	// Every rule says which driver step needs it: the line before each
	// "- apiGroups" is a comment.
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "- apiGroups") && (i == 0 || !strings.HasPrefix(lines[i-1], "#")) {
			t.Errorf("rule at line %d has no comment saying which driver step needs it", i+1)
		}
	}
}
