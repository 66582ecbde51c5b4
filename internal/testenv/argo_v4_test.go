package testenv

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

var (
	workflowsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
	taskSetsGVR  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflowtasksets"}
)

// A workflow that runs no pod: one step that suspends for a second.
const pauseWorkflow = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: pause
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: wait
        template: pause
  - name: pause
    suspend:
      duration: "1"
`

// A workflow whose only step is a template of our plugin (the key convert
// writes, plugin.PluginName): the controller answers it with an agent pod
// carrying our sidecar, which stays Pending here (no kubelet).
const pluginWorkflow = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: plugin-step
spec:
  entrypoint: main
  serviceAccountName: pipeline-runner
  templates:
  - name: main
    steps:
    - - name: drive
        template: drive
  - name: drive
    plugin:
      driver-plugin:
        args: {type: ROOT_DAG}
`

// TestArgoV4ControllerAndCLI runs Argo v4 (hack/tools.sh --only argo-v4;
// skipped when not built) on a real kube-apiserver: the v4 minimal CRDs
// install, the v4 workflow-controller starts with executor plugins and loads
// our plugin ConfigMap as rendered for v3, the v4 argo CLI lints, dry-runs,
// submits and lists workflows in kube mode, a pod-less workflow succeeds,
// and a plugin step gets an agent pod built as under v3: our sidecar beside
// argoexec's main container, with the plugin's address and name.
func TestArgoV4ControllerAndCLI(t *testing.T) {
	tools := RequireArgo(t, ArgoV4)
	c := StartClusterWith(t, Options{ToolsDir: tools, Argo: ArgoV4.Name})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if c.Argo != ArgoV4 {
		t.Fatalf("cluster runs Argo %+v, want v4", c.Argo)
	}
	for _, name := range []string{"workflows.argoproj.io", "workflowtasksets.argoproj.io", "workflowtaskresults.argoproj.io"} {
		if ok, err := c.CRDEstablished(ctx, name); !ok || err != nil {
			t.Fatalf("v4 CRD %s established = %v, %v", name, ok, err)
		}
	}

	// The plugin registration exactly as we ship it (rendered for v3).
	if err := c.EnsureNamespace(ctx, "argo"); err != nil {
		t.Fatal(err)
	}
	cm, err := pluginconfig.Defaults().ConfigMap("argo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("argo").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := c.StartArgoController(t, "argo", map[string]string{"ARGO_AGENT_PATCH_RATE": "1s"})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workflow-controller-v4 log:\n%s", a.Tail(40))
		}
	})
	if a.Release != ArgoV4 || filepath.Base(a.LogPath) != "workflow-controller-v4.log" {
		t.Errorf("controller release %s, log %s: want the v4 binary", a.Release.Name, a.LogPath)
	}
	for _, line := range []string{"Starting Workflow Controller", "executorPlugins=true", "defaultRequeueTime=1s"} {
		if !a.LogContains(line) {
			t.Errorf("controller log lacks %q", line)
		}
	}
	err = PollUntil(ctx, "the v4 controller to load our plugin ConfigMap", a.Process, func(context.Context) (bool, error) {
		return a.LogContains("Executor plugin added") && a.LogContains(pluginconfig.ConfigMapName), nil
	})
	if err != nil {
		t.Fatal(err)
	}

	const ns = "team"
	prepareNamespace(ctx, t, c, ns)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pause, pluginStep := write("pause.yaml", pauseWorkflow), write("plugin.yaml", pluginWorkflow)
	broken := write("broken.yaml", strings.Replace(pauseWorkflow, "template: pause", "template: nowhere", 1))
	argo := func(args ...string) (string, error) {
		bin, err := ToolPath(c.ToolsDir, c.Argo.CLI)
		if err != nil {
			return "", err
		}
		cmd := exec.CommandContext(ctx, bin, append(args, "--kubeconfig", c.KubeconfigPath, "-n", ns)...)
		// Kube mode: no ARGO_* setting may point the CLI at an Argo server
		// (even an empty ARGO_SERVER makes `version` ask a server).
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "ARGO_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	t.Run("versions", func(t *testing.T) {
		out, err := argo("version", "--short")
		if err != nil || !strings.Contains(out, "argo: v4.0.5") {
			t.Errorf("argo version = %q, %v; want v4.0.5", out, err)
		}
		for _, name := range []string{c.Argo.WorkflowController, c.Argo.Argoexec} {
			bin, _ := ToolPath(c.ToolsDir, name)
			out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "v4.0.5") {
				t.Errorf("%s version = %q, %v; want v4.0.5", name, out, err)
			}
		}
	})

	t.Run("lint", func(t *testing.T) {
		out, err := argo("lint", pause, pluginStep)
		if err != nil || !strings.Contains(out, "no linting errors found") {
			t.Errorf("argo lint of valid workflows = %q, %v", out, err)
		}
		out, err = argo("lint", broken)
		if err == nil || !strings.Contains(out, "nowhere") {
			t.Errorf("argo lint of a step naming a missing template = %q, %v; want a failure naming it", out, err)
		}
	})

	t.Run("server dry run", func(t *testing.T) {
		out, err := argo("submit", "--server-dry-run", "-o", "json", pluginStep)
		if err != nil {
			t.Fatalf("argo submit --server-dry-run: %v\n%s", err, out)
		}
		var wf struct {
			Metadata struct{ Name, Namespace string }
			Spec     struct{ Templates []map[string]any }
		}
		if err := json.Unmarshal([]byte(out), &wf); err != nil {
			t.Fatalf("dry-run output is not a workflow: %v\n%s", err, out)
		}
		if wf.Metadata.Name != "plugin-step" || wf.Metadata.Namespace != ns || len(wf.Spec.Templates) != 2 ||
			wf.Spec.Templates[1]["plugin"] == nil {
			t.Errorf("dry-run workflow = %+v", wf)
		}
		_, err = c.Dynamic.Resource(workflowsGVR).Namespace(ns).Get(ctx, "plugin-step", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("the dry-run workflow was stored: get = %v", err)
		}
	})

	t.Run("pod-less workflow succeeds", func(t *testing.T) {
		if out, err := argo("submit", pause); err != nil {
			t.Fatalf("argo submit: %v\n%s", err, out)
		}
		phase := waitPhase(ctx, t, c, ns, "pause", "Succeeded")
		if phase != "Succeeded" {
			t.Fatalf("workflow pause ended %s", phase)
		}
		out, err := argo("list")
		if err != nil || !strings.Contains(out, "pause") || !strings.Contains(out, "Succeeded") {
			t.Errorf("argo list = %q, %v; want pause Succeeded", out, err)
		}
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) != 0 {
			t.Errorf("pods of a pod-less workflow: %d, %v", len(pods.Items), err)
		}
	})

	t.Run("plugin step gets an agent pod", func(t *testing.T) {
		if out, err := argo("submit", pluginStep); err != nil {
			t.Fatalf("argo submit: %v\n%s", err, out)
		}
		var pod *corev1.Pod
		err := PollUntil(ctx, "the agent pod", a.Process, func(ctx context.Context) (bool, error) {
			pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
				LabelSelector: "workflows.argoproj.io/workflow=plugin-step,workflows.argoproj.io/component=agent"})
			if err != nil || len(pods.Items) == 0 {
				return false, err
			}
			pod = &pods.Items[0]
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkAgentPod(t, pod)
		ts, err := c.Dynamic.Resource(taskSetsGVR).Namespace(ns).Get(ctx, "plugin-step", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("WorkflowTaskSet: %v", err)
		}
		tasks, _, _ := unstructured.NestedMap(ts.Object, "spec", "tasks")
		if len(tasks) != 1 {
			t.Fatalf("WorkflowTaskSet tasks = %v, want the one plugin node", tasks)
		}
		for _, task := range tasks {
			args, _, _ := unstructured.NestedString(task.(map[string]any), "plugin", "driver-plugin", "args", "type")
			if args != "ROOT_DAG" {
				t.Errorf("task set template = %v, want our plugin template", task)
			}
		}
		if out, err := argo("stop", "plugin-step"); err != nil {
			t.Errorf("argo stop: %v\n%s", err, out)
		}
	})

	// Last: it replaces the minimal CRDs with the full ones.
	t.Run("full CRDs accept KFP workflows, compiled and converted", func(t *testing.T) {
		checkFullCRDs(ctx, t, c, ns)
	})
}

// checkFullCRDs installs the release's full CRDs (schemas with CEL rules,
// what v4's release manifests install) and creates, server-side dry run,
// every KFP-compiled workflow of convert's corpus as KFP compiled it and as
// convert (or the webhook) rewrites it.
func checkFullCRDs(ctx context.Context, t *testing.T, c *Cluster, ns string) {
	t.Helper()
	if err := c.InstallCRDs(ctx, filepath.Join(filepath.Dir(c.ToolsDir), c.Argo.FullCRDs)); err != nil {
		t.Fatal(err)
	}
	create := func(doc []byte) error {
		u := &unstructured.Unstructured{}
		j, err := yaml.YAMLToJSON(doc)
		if err == nil {
			err = u.UnmarshalJSON(j)
		}
		if err != nil {
			return err
		}
		u.SetNamespace(ns)
		_, err = c.Dynamic.Resource(workflowsGVR).Namespace(ns).Create(ctx, u,
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	// The schemas are there: a template of two types is refused.
	twoTypes := strings.Replace(pluginWorkflow, "    plugin:\n", "    suspend: {}\n    plugin:\n", 1)
	if err := create([]byte(twoTypes)); err == nil || !strings.Contains(err.Error(), "at most one template type") {
		t.Fatalf("a template with suspend and plugin: %v; want the full CRD's CEL rule to refuse it", err)
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "convert", "testdata", "compiled-workflows", "*.yaml"))
	if err != nil || len(files) < 100 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	converted := 0
	for _, f := range files {
		compiled, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plugged, err := convert.Workflow(compiled, convert.Options{})
		if err != nil {
			t.Fatalf("%s: convert: %v", filepath.Base(f), err)
		}
		if strings.Contains(string(plugged), "driver-plugin:") {
			converted++
		}
		for _, v := range []struct {
			what string
			doc  []byte
		}{{"compiled", compiled}, {"converted", plugged}} {
			if err := create(v.doc); err != nil {
				t.Errorf("%s (%s): refused by the v4 full CRDs: %v", filepath.Base(f), v.what, err)
			}
		}
	}
	if converted < len(files)/2 {
		t.Errorf("only %d of %d corpus workflows got plugin templates", converted, len(files))
	}
	t.Logf("%d KFP workflows (%d with driver templates) accepted by the v4 full CRDs, compiled and converted", len(files), converted)
}

// checkAgentPod asserts what the plugin relies on in the agent pod: our
// sidecar (named, ported and token-mounted as the ConfigMap says) beside
// argoexec's init and main containers, which get the plugin's address and
// name.
func checkAgentPod(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	var names []string
	for _, ctr := range pod.Spec.Containers {
		names = append(names, ctr.Name)
	}
	if len(pod.Spec.Containers) != 2 || names[0] != pluginconfig.ContainerName || names[1] != "main" {
		t.Fatalf("agent pod containers = %v, want [%s main]", names, pluginconfig.ContainerName)
	}
	sidecar, main := pod.Spec.Containers[0], pod.Spec.Containers[1]
	if sidecar.Image != pluginconfig.DefaultImage || len(sidecar.Ports) == 0 || sidecar.Ports[0].ContainerPort != pluginconfig.Port {
		t.Errorf("sidecar image %s ports %v: want the ConfigMap's", sidecar.Image, sidecar.Ports)
	}
	mounts := map[string]string{}
	for _, m := range sidecar.VolumeMounts {
		mounts[m.MountPath] = m.SubPath
	}
	if sub, ok := mounts["/var/run/argo"]; !ok || sub != pluginconfig.ContainerName {
		t.Errorf("sidecar mounts %v: want /var/run/argo with subPath %s (its token)", mounts, pluginconfig.ContainerName)
	}
	if _, ok := mounts["/var/run/secrets/kubernetes.io/serviceaccount"]; !ok {
		t.Errorf("sidecar mounts %v: want the plugin service account token (automountServiceAccountToken)", mounts)
	}
	if main.Image != "quay.io/argoproj/argoexec:v4.0.5" || strings.Join(main.Args[:2], " ") != "agent main" {
		t.Errorf("main container image %s args %v: want argoexec v4.0.5 agent main", main.Image, main.Args)
	}
	env := map[string]string{}
	for _, e := range main.Env {
		env[e.Name] = e.Value
	}
	want := map[string]string{
		"ARGO_PLUGIN_ADDRESSES": `["http://localhost:7492"]`,
		"ARGO_PLUGIN_NAMES":     `["driver-plugin"]`,
		"ARGO_WORKFLOW_NAME":    "plugin-step",
		"ARGO_AGENT_PATCH_RATE": "1s",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("main container env %s = %q, want %q", k, env[k], v)
		}
	}
	if len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Name != "init" {
		t.Errorf("agent pod init containers = %v, want argoexec's init", pod.Spec.InitContainers)
	}
	if pod.Spec.ServiceAccountName != "pipeline-runner" {
		t.Errorf("agent pod service account %q, want the workflow's", pod.Spec.ServiceAccountName)
	}
}

// prepareNamespace creates ns with the accounts an agent pod mounts (the
// workflow's and the plugin's) and their token Secrets, by name: nothing
// fills them here (no controller-manager) and nothing reads them.
func prepareNamespace(ctx context.Context, t *testing.T, c *Cluster, ns string) {
	t.Helper()
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
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

// waitPhase waits until workflow ns/name has completed and returns its phase.
func waitPhase(ctx context.Context, t *testing.T, c *Cluster, ns, name, want string) string {
	t.Helper()
	var phase string
	err := PollUntil(ctx, "workflow "+name+" to complete", nil, func(ctx context.Context) (bool, error) {
		wf, err := c.Dynamic.Resource(workflowsGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase, _, _ = unstructured.NestedString(wf.Object, "status", "phase")
		return phase == want || phase == "Failed" || phase == "Error", nil
	})
	if err != nil {
		t.Fatalf("%v (phase %q)", err, phase)
	}
	return phase
}
