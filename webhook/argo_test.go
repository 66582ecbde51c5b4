package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// The admin's agent pod metadata in the tests (Istio injection, as KFP's
// driver configuration guide has it).
var (
	adminLabels      = map[string]string{"sidecar.istio.io/inject": "true", "app.kubernetes.io/component": "kfp-driver"}
	adminAnnotations = map[string]string{"proxy.istio.io/config": `{"holdApplicationUntilProxyStarts": true}`}
)

// TestArgoControllerPathsOnRealAPIServer runs the real Argo
// workflow-controller against a real kube-apiserver with the webhook
// registered:
//   - the agent pod the controller creates for a converted KFP workflow
//     gets the admin's labels and annotations from the plugin ConfigMap,
//     while the workflow's other pod does not, and the workflow carries no
//     podMetadata;
//   - a change of the plugin ConfigMap applies to the next agent pod;
//   - a Workflow the controller creates from a CronWorkflow whose
//     workflowSpec has KFP's driver templates is converted too.
//   - with the agent pod webhook at Fail (istio-strict-mtls) and the webhook
//     down, the agent pod is refused, Argo retries it as a transient error
//     without failing the run, and creates it, with the metadata, once the
//     webhook is back.
func TestArgoControllerPathsOnRealAPIServer(t *testing.T) {
	testenv.RequireTools(t, testenv.WorkflowController)
	c := testenv.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	createNamespace(ctx, t, c, enabledNS, map[string]string{"pipelines.kubeflow.org/enabled": "true"})
	if err := c.EnsureNamespace(ctx, webhookNamespace); err != nil {
		t.Fatal(err)
	}
	setPluginConfigMap(ctx, t, c, adminLabels, adminAnnotations)
	live := startLiveWebhook(ctx, t, c)
	argo := c.StartArgoController(t, "argo", nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workflow-controller log:\n%s", argo.Tail(40))
		}
	})
	registerPlugin(ctx, t, c, argo.Namespace)
	prepareWorkflowNamespace(ctx, t, c, enabledNS)

	t.Run("agent pod metadata", func(t *testing.T) {
		wf := createWorkflow(ctx, t, c, withPlainStep(t, kfpWorkflow(t, corpusFile(t, "hello_world.yaml"), "agent")))
		if wf.GetAnnotations()[ConvertedAnnotation] == "" {
			t.Fatal("workflow not converted")
		}
		podMeta, _, _ := unstructured.NestedMap(wf.Object, "spec", "podMetadata")
		for _, field := range []string{"labels", "annotations"} {
			m, _ := podMeta[field].(map[string]any)
			for k := range adminLabels {
				if _, set := m[k]; set {
					t.Errorf("spec.podMetadata.%s has the admin's %s: it would reach every pod", field, k)
				}
			}
			for k := range adminAnnotations {
				if _, set := m[k]; set {
					t.Errorf("spec.podMetadata.%s has the admin's %s: it would reach every pod", field, k)
				}
			}
		}
		agent := waitPod(ctx, t, c, wf.GetName(), "workflows.argoproj.io/component=agent")
		other := waitPod(ctx, t, c, wf.GetName(), "workflows.argoproj.io/component!=agent")
		for k, v := range adminLabels {
			if agent.Labels[k] != v {
				t.Errorf("agent pod label %s = %q, want %q", k, agent.Labels[k], v)
			}
			if _, set := other.Labels[k]; set {
				t.Errorf("pod %s of the workflow got label %s", other.Name, k)
			}
		}
		for k, v := range adminAnnotations {
			if agent.Annotations[k] != v {
				t.Errorf("agent pod annotation %s = %q, want %q", k, agent.Annotations[k], v)
			}
			if _, set := other.Annotations[k]; set {
				t.Errorf("pod %s of the workflow got annotation %s", other.Name, k)
			}
		}
	})

	t.Run("ConfigMap change applies to the next admission", func(t *testing.T) {
		setPluginConfigMap(ctx, t, c, map[string]string{"team": "changed"}, map[string]string{})
		pod := bareAgentPod()
		err := testenv.PollUntil(ctx, "the new pod metadata", nil, func(ctx context.Context) (bool, error) {
			out, err := c.Client.CoreV1().Pods(enabledNS).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				return false, err
			}
			_, old := out.Labels["sidecar.istio.io/inject"]
			return out.Labels["team"] == "changed" && !old, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("workflow created from a CronWorkflow", func(t *testing.T) {
		cron := cronWorkflow(t, kfpWorkflow(t, corpusFile(t, "hello_world.yaml"), "cron"))
		if _, err := c.Dynamic.Resource(cronWorkflowsGVR).Namespace(enabledNS).Create(ctx, cron, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var wf *unstructured.Unstructured
		err := testenv.PollUntil(ctx, "a workflow from the CronWorkflow", nil, func(ctx context.Context) (bool, error) {
			list, err := c.Dynamic.Resource(workflowsGVR).Namespace(enabledNS).List(ctx, metav1.ListOptions{
				LabelSelector: "workflows.argoproj.io/cron-workflow=" + cron.GetName()})
			if err != nil || len(list.Items) == 0 {
				return false, err
			}
			wf = &list.Items[0]
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if wf.GetAnnotations()[ConvertedAnnotation] == "" || !hasPluginTemplate(wf) {
			t.Errorf("workflow %s from the CronWorkflow was not converted (annotations %v)", wf.GetName(), wf.GetAnnotations())
		}
	})

	t.Run("agent pods wait while the webhook is down (Fail)", func(t *testing.T) {
		failClosed(ctx, t, c, live, argo)
	})
}

// failClosed: with the agent pod webhook set to Fail (as in
// overlays/istio-strict-mtls) and the webhook down, the API server refuses
// the agent pod of an already converted workflow; Argo takes the refusal
// as transient and keeps trying, so the run waits without failing, and
// once the webhook is back the agent pod is created with the metadata.
func failClosed(ctx context.Context, t *testing.T, c *testenv.Cluster, live *liveWebhook, argo *testenv.ArgoController) {
	t.Helper()
	live.stop(t)
	setAgentPodFailurePolicy(ctx, t, c, "Fail")
	err := testenv.PollUntil(ctx, "the API server refusing agent pods", nil, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().Pods(enabledNS).Create(ctx, bareAgentPod(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "failed calling webhook"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	converted, err := convert.Workflow(corpusFile(t, "hello_world.yaml"), convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(converted)
	if err != nil {
		t.Fatal(err)
	}
	wf := createWorkflow(ctx, t, c, kfpWorkflow(t, j, "fail-closed"))
	refused := "Failed to create Agent pod"
	err = testenv.PollUntil(ctx, "the controller retrying the refused agent pod", nil, func(context.Context) (bool, error) {
		return strings.Count(argo.Tail(400), refused) >= 2, nil // at least one retry
	})
	if err != nil {
		t.Fatal(err)
	}
	if pods := listPods(ctx, t, c, "workflows.argoproj.io/workflow="+wf.GetName()+",workflows.argoproj.io/component=agent"); len(pods) != 0 {
		t.Fatalf("agent pod %s created without the webhook", pods[0].Name)
	}
	if phases := nodePhases(ctx, t, c, wf.GetName()); phases["Error"]+phases["Failed"] != 0 {
		t.Fatalf("nodes failed while the webhook was down: %v", phases)
	}
	startReplicaAt(ctx, t, c, live.addr) // the webhook is back, on the registered address
	agent := waitPod(ctx, t, c, wf.GetName(), "workflows.argoproj.io/component=agent")
	if agent.Labels["team"] != "changed" {
		t.Errorf("agent pod created after the webhook came back has labels %v", agent.Labels)
	}
}

func nodePhases(ctx context.Context, t *testing.T, c *testenv.Cluster, name string) map[string]int {
	t.Helper()
	got, err := c.Dynamic.Resource(workflowsGVR).Namespace(enabledNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nodes, _, _ := unstructured.NestedMap(got.Object, "status", "nodes")
	phases := map[string]int{}
	for _, raw := range nodes {
		phases[fmt.Sprint(raw.(map[string]any)["phase"])]++
	}
	return phases
}

func listPods(ctx context.Context, t *testing.T, c *testenv.Cluster, selector string) []corev1.Pod {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods(enabledNS).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// setAgentPodFailurePolicy sets the agent pod webhook's failure policy, as
// overlays/istio-strict-mtls does.
func setAgentPodFailurePolicy(ctx context.Context, t *testing.T, c *testenv.Cluster, policy string) {
	t.Helper()
	res := c.Dynamic.Resource(mutatingWebhookConfigurations)
	cfg, err := res.Get(ctx, webhookConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	for _, raw := range webhooks {
		if wh := raw.(map[string]any); strings.HasPrefix(fmt.Sprint(wh["name"]), "agent-pods.") {
			wh["failurePolicy"] = policy
		}
	}
	if err := unstructured.SetNestedSlice(cfg.Object, webhooks, "webhooks"); err != nil {
		t.Fatal(err)
	}
	if _, err := res.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func corpusFile(t *testing.T, name string) []byte {
	t.Helper()
	return yamlFileJSON(t, corpusDir+"/"+name)
}

// setPluginConfigMap creates or updates the plugin ConfigMap the webhook
// watches, with the admin's pod metadata as `kfp-driver-plugin configmap`
// renders it.
func setPluginConfigMap(ctx context.Context, t *testing.T, c *testenv.Cluster, labels, annotations map[string]string) {
	t.Helper()
	s := pluginconfig.Defaults()
	s.Labels, s.Annotations = labels, annotations
	cm, err := s.ConfigMap(webhookNamespace)
	if err != nil {
		t.Fatal(err)
	}
	cms := c.Client.CoreV1().ConfigMaps(webhookNamespace)
	if _, err = cms.Create(ctx, cm, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// registerPlugin registers the plugin with Argo (its ConfigMap in the
// controller's namespace), so the controller adds our sidecar to agent pods.
func registerPlugin(ctx context.Context, t *testing.T, c *testenv.Cluster, ns string) {
	t.Helper()
	cm, err := pluginconfig.Defaults().ConfigMap(ns)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// prepareWorkflowNamespace gives ns the accounts Argo needs to create an
// agent pod: the workflow's (pipeline-runner) and the plugin's, each with
// its token Secret (no token controller runs; Argo mounts them by name).
func prepareWorkflowNamespace(ctx context.Context, t *testing.T, c *testenv.Cluster, ns string) {
	t.Helper()
	for _, account := range []string{"pipeline-runner", pluginconfig.ServiceAccountName} {
		secret := account + ".service-account-token"
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: account}, Secrets: []corev1.ObjectReference{{Name: secret}}}
		if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret,
			Annotations: map[string]string{"kubernetes.io/service-account.name": account}}, Type: corev1.SecretTypeServiceAccountToken}
		if _, err := c.Client.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// withPlainStep adds a container step beside the entrypoint's tasks: a
// pod of the workflow that is not the agent pod.
func withPlainStep(t *testing.T, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	entry, _, _ := unstructured.NestedString(u.Object, "spec", "entrypoint")
	templates, _, _ := unstructured.NestedSlice(u.Object, "spec", "templates")
	found := false
	for _, raw := range templates {
		tmpl := raw.(map[string]any)
		if tmpl["name"] != entry {
			continue
		}
		dag := tmpl["dag"].(map[string]any)
		dag["tasks"] = append(dag["tasks"].([]any), map[string]any{"name": "plain", "template": "plain-step"})
		found = true
	}
	if !found {
		t.Fatalf("no entrypoint template %q", entry)
	}
	templates = append(templates, map[string]any{"name": "plain-step",
		"container": map[string]any{"image": "busybox", "command": []any{"true"}}})
	if err := unstructured.SetNestedSlice(u.Object, templates, "spec", "templates"); err != nil {
		t.Fatal(err)
	}
	return u
}

// waitPod waits for the one pod of workflow wf matching selector.
func waitPod(ctx context.Context, t *testing.T, c *testenv.Cluster, wf, selector string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	err := testenv.PollUntil(ctx, "pod "+selector+" of "+wf, nil, func(ctx context.Context) (bool, error) {
		pods, err := c.Client.CoreV1().Pods(enabledNS).List(ctx, metav1.ListOptions{
			LabelSelector: "workflows.argoproj.io/workflow=" + wf + "," + selector})
		if err != nil || len(pods.Items) == 0 {
			return false, err
		}
		pod = &pods.Items[0]
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

// bareAgentPod looks like the agent pods Argo creates, as far as the
// webhook's selector and checks go.
func bareAgentPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-agent-", Labels: map[string]string{"workflows.argoproj.io/component": "agent"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "main", Image: "argoexec"}, {Name: pluginconfig.ContainerName, Image: pluginconfig.DefaultImage},
		}},
	}
}

// cronWorkflow wraps a workflow's spec and metadata in a CronWorkflow that
// fires every few seconds.
func cronWorkflow(t *testing.T, wf *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	spec, _, _ := unstructured.NestedMap(wf.Object, "spec")
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
		"metadata": map[string]any{"name": "kfp-recurring", "namespace": wf.GetNamespace()},
		"spec": map[string]any{
			"schedules": []any{"@every 3s"}, "concurrencyPolicy": "Forbid",
			"workflowMetadata": map[string]any{"labels": toAny(wf.GetLabels()), "annotations": toAny(wf.GetAnnotations())},
			"workflowSpec":     spec,
		},
	}}
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func hasPluginTemplate(wf *unstructured.Unstructured) bool {
	templates, _, _ := unstructured.NestedSlice(wf.Object, "spec", "templates")
	for _, raw := range templates {
		if p, ok := raw.(map[string]any)["plugin"]; ok {
			b, _ := json.Marshal(p)
			return strings.Contains(string(b), `"`+plugin.PluginName+`"`)
		}
	}
	return false
}
