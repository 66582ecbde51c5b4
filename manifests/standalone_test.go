package manifests

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

func TestStandaloneAccount(t *testing.T) {
	objs, _ := kustomize(t, "overlays/standalone")
	sa := get(t, objs, "ServiceAccount", profile.PluginServiceAccount)
	// Argo finds the token Secret by name; listing it would make Kubernetes
	// treat it as a legacy auto-generated token.
	if secrets, found, _ := unstructured.NestedSlice(sa.Object, "secrets"); found {
		t.Errorf("the plugin ServiceAccount lists secrets %v", secrets)
	}
	for secret, account := range map[string]string{profile.PluginTokenSecret: profile.PluginServiceAccount, "pipeline-runner.service-account-token": "pipeline-runner"} {
		s := get(t, objs, "Secret", secret)
		if str(t, s, "type") != "kubernetes.io/service-account-token" || s.GetAnnotations()["kubernetes.io/service-account.name"] != account {
			t.Errorf("token Secret %s: %v", secret, s.Object)
		}
	}
	rb := get(t, objs, "RoleBinding", profile.PluginRoleBinding)
	subjects, _, _ := unstructured.NestedSlice(rb.Object, "subjects")
	if str(t, rb, "roleRef", "name") != profile.DefaultClusterRole || len(subjects) != 1 ||
		subjects[0].(map[string]any)["namespace"] != sa.GetNamespace() {
		t.Errorf("RoleBinding %v does not bind the plugin role to %s/%s", rb.Object, sa.GetNamespace(), sa.GetName())
	}
	// The agent container runs as pipeline-runner.
	agent := get(t, objs, "RoleBinding", profile.AgentRoleBinding)
	subjects, _, _ = unstructured.NestedSlice(agent.Object, "subjects")
	if str(t, agent, "roleRef", "name") != pluginconfig.AgentClusterRole || len(subjects) != 1 ||
		subjects[0].(map[string]any)["name"] != "pipeline-runner" || subjects[0].(map[string]any)["namespace"] != "kubeflow" {
		t.Errorf("agent RoleBinding %v does not bind the agent role to kubeflow/pipeline-runner", agent.Object)
	}
}

// The component flips ARGO_EXECUTOR_PLUGINS on Argo's own Deployment and
// shortens its requeue time, keeping its other settings.
func TestArgoExecutorPluginsComponent(t *testing.T) {
	dir := argoKustomization(t)
	objs, _ := kustomize(t, dir)
	dep := get(t, objs, "Deployment", "workflow-controller")
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	env := map[string]any{}
	for _, e := range containers[0].(map[string]any)["env"].([]any) {
		env[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"]
	}
	if env["ARGO_EXECUTOR_PLUGINS"] != "true" || env["DEFAULT_REQUEUE_TIME"] != "2s" || env["LEADER_ELECTION_IDENTITY"] != "kept" {
		t.Errorf("env %v", env)
	}
}

// argoKustomization writes a kustomization that deploys a stand-in of
// Argo's workflow-controller Deployment with the component, as a user's
// Argo kustomization would.
func argoKustomization(t *testing.T) string {
	t.Helper()
	component, err := filepath.Abs("components/argo-executor-plugins")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, component)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"kustomization.yaml": "resources: [workflow-controller.yaml]\ncomponents: [" + rel + "]\n",
		"workflow-controller.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: workflow-controller
  namespace: kubeflow
spec:
  selector:
    matchLabels: {app: workflow-controller}
  template:
    metadata:
      labels: {app: workflow-controller}
    spec:
      containers:
      - name: workflow-controller
        image: quay.io/argoproj/workflow-controller:v3.7.18
        env:
        - name: LEADER_ELECTION_IDENTITY
          value: kept
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
