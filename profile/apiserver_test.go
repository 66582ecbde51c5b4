package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// decoratorAnnotation is how metacontroller marks the children of one
// DecoratorController (it only observes children carrying its name).
const decoratorAnnotation = "metacontroller.k8s.io/decorator-controller"

// TestChildrenOnRealAPIServer plays metacontroller against a real
// kube-apiserver: the hook's children for an enabled namespace are applied
// (server-side apply, owned by the Namespace, as metacontroller marks them),
// read back and fed to the hook again, which must then report ready. Then
// the real Argo workflow-controller creates the agent pod of a plugin
// workflow in that namespace, while in a namespace without the children it
// cannot ("serviceaccounts ... not found").
func TestChildrenOnRealAPIServer(t *testing.T) {
	c := testenv.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hook := httptest.NewServer(NewHandler(testSettings(), NewPodMetadataSource(writeMetadata(t,
		`{"sidecar.istio.io/inject":"true"}`, `{"proxy.istio.io/config":"{\"holdApplicationUntilProxyStarts\": true}"}`)), testKeys()))
	defer hook.Close()
	a := &applier{c: c, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))}

	createClusterRole(ctx, t, c)
	ns := a.profileNamespace(ctx, t, "team-a")
	first := callHook(t, hook.URL, Request{Object: ns, Attachments: emptyAttachments()})
	if first.Status[ReadyKey] != "False" {
		t.Fatalf("status before applying: %v", first.Status)
	}
	for _, obj := range first.Attachments {
		a.apply(ctx, t, ns, obj)
	}
	second := callHook(t, hook.URL, Request{Object: ns, Attachments: a.observe(ctx, t, ns)})
	if second.Status[ReadyKey] != "True" {
		t.Fatalf("status after applying the hook's own answer to a real apiserver: %v", second.Status)
	}
	if !jsonEqual(first.Attachments, second.Attachments) {
		t.Error("the answer changed once the children existed: the hook is not stable")
	}

	argo := c.StartArgoController(t, "argo", nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workflow-controller log:\n%s", argo.Tail(40))
		}
	})
	registerPlugin(ctx, t, c, argo.Namespace)
	pod := a.agentPod(ctx, t, "team-a", 90*time.Second)
	assertMountsTokens(t, pod)

	if msg := a.workflowMessage(ctx, t, "team-a"); strings.Contains(msg, "not found") {
		t.Errorf("workflow in team-a: %s", msg)
	}

	// Control: the same workflow where the hook has not run fails to get
	// its agent pod, for the reason the children exist.
	a.profileNamespace(ctx, t, "team-b")
	a.submit(ctx, t, "team-b")
	want := `serviceaccounts "` + PluginServiceAccount + `" not found`
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(a.workflowMessage(ctx, t, "team-b"), want) {
		if time.Now().After(deadline) {
			t.Fatalf("workflow in team-b: message %q, want it to contain %q", a.workflowMessage(ctx, t, "team-b"), want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if pods := a.agentPods(ctx, t, "team-b"); len(pods) != 0 {
		t.Fatalf("agent pod created in team-b without the plugin's ServiceAccount: %s", pods[0].Name)
	}
}

type applier struct {
	c      *testenv.Cluster
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// profileNamespace creates an enabled namespace and the account Kubeflow's
// profile controller gives it, and returns the Namespace as the apiserver
// serves it (uid included), which is what metacontroller sends.
func (a *applier) profileNamespace(ctx context.Context, t *testing.T, name string) Object {
	t.Helper()
	core := a.c.Client.CoreV1()
	created, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: name, Labels: map[string]string{EnabledLabel: "true"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultWorkflowSA}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(created)
	var obj Object
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	obj["apiVersion"], obj["kind"] = "v1", "Namespace"
	return obj
}

func (a *applier) resource(t *testing.T, apiVersion, kind string) schema.GroupVersionResource {
	t.Helper()
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if err != nil {
		t.Fatalf("%s %s: %v", apiVersion, kind, err)
	}
	return m.Resource
}

// apply does what metacontroller does with a desired attachment: owner
// reference to the parent, its decorator annotation, then create/update
// (here: server-side apply, which validates the schema strictly).
func (a *applier) apply(ctx context.Context, t *testing.T, parent, obj Object) {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	u = u.DeepCopy()
	yes := true
	u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Namespace", Name: name(parent),
		UID: types.UID(metadata(parent)["uid"].(string)), Controller: &yes, BlockOwnerDeletion: &yes}})
	ann := u.GetAnnotations()
	ann[decoratorAnnotation] = "kubeflow-pipelines-profile-controller"
	u.SetAnnotations(ann)
	body, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	gvr := a.resource(t, u.GetAPIVersion(), u.GetKind())
	force := true
	_, err = a.c.Dynamic.Resource(gvr).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: "metacontroller", Force: &force, FieldValidation: "Strict"})
	if err != nil {
		t.Fatalf("apply %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
}

// observe lists what metacontroller would send back: per attachment type,
// the objects in the namespace controlled by it, keyed "<ns>/<name>".
func (a *applier) observe(ctx context.Context, t *testing.T, parent Object) map[string]map[string]Object {
	t.Helper()
	out := map[string]map[string]Object{}
	for _, key := range AttachmentTypes {
		kind, apiVersion, _ := strings.Cut(key, ".")
		list, err := a.c.Dynamic.Resource(a.resource(t, apiVersion, kind)).Namespace(name(parent)).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[key] = map[string]Object{}
		for _, item := range list.Items {
			if ref := metav1.GetControllerOf(&item); ref != nil && string(ref.UID) == metadata(parent)["uid"] {
				out[key][item.GetNamespace()+"/"+item.GetName()] = item.Object
			}
		}
	}
	return out
}

func callHook(t *testing.T, url string, req Request) *Response {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(url+SyncPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("hook: %d %v", resp.StatusCode, err)
	}
	return &out
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// createClusterRole installs the plugin role the RoleBinding refers to,
// from the manifests.
func createClusterRole(ctx context.Context, t *testing.T, c *testenv.Cluster) {
	t.Helper()
	b, err := os.ReadFile("../manifests/base/clusterrole.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role map[string]any
	if err := yaml.Unmarshal(b, &role); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	if _, err := c.Dynamic.Resource(gvr).Create(ctx, &unstructured.Unstructured{Object: role}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// registerPlugin creates the plugin ConfigMap (the defaults) in Argo's
// namespace, where the controller loads plugins for every namespace.
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

var workflows = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

// submit creates a one-step plugin workflow "plugin-wf" in ns, running as
// the namespace's editor account.
func (a *applier) submit(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	wf := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
		"metadata": map[string]any{"name": "plugin-wf", "namespace": ns},
		"spec": map[string]any{
			"entrypoint": "main", "serviceAccountName": DefaultWorkflowSA,
			"templates": []any{map[string]any{"name": "main", "plugin": map[string]any{
				"driver-plugin": map[string]any{"args": map[string]any{"type": "ROOT_DAG"}},
			}}},
		},
	}
	if _, err := a.c.Dynamic.Resource(workflows).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: wf}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (a *applier) workflowMessage(ctx context.Context, t *testing.T, ns string) string {
	t.Helper()
	wf, err := a.c.Dynamic.Resource(workflows).Namespace(ns).Get(ctx, "plugin-wf", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg, _, _ := unstructured.NestedString(wf.Object, "status", "message")
	return msg
}

func (a *applier) agentPods(ctx context.Context, t *testing.T, ns string) []corev1.Pod {
	t.Helper()
	pods, err := a.c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		LabelSelector: "workflows.argoproj.io/workflow=plugin-wf,workflows.argoproj.io/component=agent",
	})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// agentPod submits the plugin workflow in ns and waits up to wait for its
// agent pod; nil if none appeared.
func (a *applier) agentPod(ctx context.Context, t *testing.T, ns string, wait time.Duration) *corev1.Pod {
	t.Helper()
	a.submit(ctx, t, ns)
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if pods := a.agentPods(ctx, t, ns); len(pods) > 0 {
			return &pods[0]
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// assertMountsTokens: the agent pod mounts the workflow account's token
// and, into the plugin sidecar, the plugin account's token, each from the
// Secret the hook created.
func assertMountsTokens(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if pod == nil {
		t.Fatal("no agent pod for the plugin workflow in the provisioned namespace")
	}
	volumes := map[string]string{} // Secret name -> volume name
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil {
			volumes[v.Secret.SecretName] = v.Name
		}
	}
	if _, ok := volumes[DefaultWorkflowSA+TokenSuffix]; !ok {
		t.Errorf("agent pod does not mount Secret %s (volumes: %v)", DefaultWorkflowSA+TokenSuffix, volumes)
	}
	pluginVolume, ok := volumes[PluginTokenSecret]
	if !ok {
		t.Fatalf("agent pod does not mount Secret %s (volumes: %v)", PluginTokenSecret, volumes)
	}
	for _, ctr := range pod.Spec.Containers {
		if ctr.Name != pluginconfig.ContainerName {
			continue
		}
		for _, m := range ctr.VolumeMounts {
			if m.Name == pluginVolume && m.MountPath == "/var/run/secrets/kubernetes.io/serviceaccount" {
				return
			}
		}
		t.Fatalf("sidecar %s does not mount the plugin token at the standard path: %v", ctr.Name, ctr.VolumeMounts)
	}
	t.Fatalf("agent pod has no %s sidecar", pluginconfig.ContainerName)
}
