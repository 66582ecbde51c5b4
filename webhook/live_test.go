package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// Names from the manifests (manifests/base/webhook).
const (
	manifestDir       = "../manifests/base/webhook/"
	webhookConfigName = "admission-kfp-driver-plugin"
	webhookNamespace  = "kubeflow"
	webhookAccount    = "system:serviceaccount:kubeflow:kfp-driver-plugin-webhook"
)

var (
	workflowsGVR     = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
	cronWorkflowsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "cronworkflows"}
)

// liveWebhook is Run serving on 127.0.0.1, registered with the API server
// through the manifests' MutatingWebhookConfiguration (clientConfig turned
// into a URL) and talking to the API server as the manifests' account
// under the manifests' RBAC.
type liveWebhook struct {
	c      *testenv.Cluster
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startLiveWebhook(ctx context.Context, t *testing.T, c *testenv.Cluster) *liveWebhook {
	t.Helper()
	if err := c.EnsureNamespace(ctx, webhookNamespace); err != nil {
		t.Fatal(err)
	}
	applyManifest(ctx, t, c, manifestDir+"serviceaccount.yaml")
	applyManifest(ctx, t, c, manifestDir+"rbac.yaml")
	addr := freeLocalAddr(t)
	registerWebhook(ctx, t, c, "https://"+addr)

	rc := rest.CopyConfig(c.RESTConfig)
	rc.Impersonate = rest.ImpersonationConfig{UserName: webhookAccount}
	runCtx, cancel := context.WithCancel(context.Background())
	w := &liveWebhook{c: c, addr: addr, cancel: cancel, done: make(chan error, 1)}
	go func() {
		w.done <- Run(runCtx, Config{Addr: addr, Grace: 5 * time.Second, RESTConfig: rc,
			ConfigNamespace: webhookNamespace, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, WebhookConfigName: webhookConfigName})
	}()
	t.Cleanup(func() { w.stop(t) })
	w.waitReady(ctx, t)
	return w
}

// startReplica runs a second webhook like the first (its own port, the
// same MutatingWebhookConfiguration), as the Deployment's second replica.
func startReplica(ctx context.Context, t *testing.T, c *testenv.Cluster) *liveWebhook {
	t.Helper()
	return startReplicaAt(ctx, t, c, freeLocalAddr(t))
}

// startReplicaAt is startReplica on addr.
func startReplicaAt(ctx context.Context, t *testing.T, c *testenv.Cluster, addr string) *liveWebhook {
	t.Helper()
	rc := rest.CopyConfig(c.RESTConfig)
	rc.Impersonate = rest.ImpersonationConfig{UserName: webhookAccount}
	runCtx, cancel := context.WithCancel(context.Background())
	w := &liveWebhook{c: c, addr: addr, cancel: cancel, done: make(chan error, 1)}
	go func() {
		w.done <- Run(runCtx, Config{Addr: w.addr, Grace: 5 * time.Second, RESTConfig: rc,
			ConfigNamespace: webhookNamespace, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, WebhookConfigName: webhookConfigName})
	}()
	t.Cleanup(func() { w.stop(t) })
	return w
}

// bundleSize is the number of CAs in the first webhook's caBundle.
func (w *liveWebhook) bundleSize(ctx context.Context) (int, error) {
	cfg, err := w.c.Dynamic.Resource(mutatingWebhookConfigurations).Get(ctx, webhookConfigName, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	b64, _, _ := unstructured.NestedString(webhooks[0].(map[string]any), "clientConfig", "caBundle")
	pemBytes, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return 0, err
	}
	return len(parseBundle(pemBytes)), nil
}

func (w *liveWebhook) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("webhook Run: %v", err)
		}
		w.done <- nil // later stops return at once
	case <-time.After(15 * time.Second):
		t.Error("webhook did not stop within 15s")
	}
}

func freeLocalAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// applyManifest creates every object of a manifest file, namespaced ones
// in the webhook's namespace (what the overlays' kustomize does).
func applyManifest(ctx context.Context, t *testing.T, c *testenv.Cluster, file string) {
	t.Helper()
	for _, u := range readManifest(t, file) {
		gvr := resourceOf(t, u)
		var err error
		if gvr.Resource == "clusterroles" || gvr.Resource == "clusterrolebindings" || gvr.Resource == "mutatingwebhookconfigurations" {
			_, err = c.Dynamic.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, err = c.Dynamic.Resource(gvr).Namespace(webhookNamespace).Create(ctx, u, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func readManifest(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

func resourceOf(t *testing.T, u *unstructured.Unstructured) schema.GroupVersionResource {
	t.Helper()
	gv, _ := schema.ParseGroupVersion(u.GetAPIVersion())
	plural := map[string]string{"ServiceAccount": "serviceaccounts", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
		"Role": "roles", "RoleBinding": "rolebindings", "MutatingWebhookConfiguration": "mutatingwebhookconfigurations"}[u.GetKind()]
	if plural == "" {
		t.Fatalf("no resource for kind %s", u.GetKind())
	}
	return gv.WithResource(plural)
}

// registerWebhook creates the manifests' MutatingWebhookConfiguration with
// each webhook's Service reference replaced by a URL on base (same path).
// caBundle stays empty: the webhook fills it.
func registerWebhook(ctx context.Context, t *testing.T, c *testenv.Cluster, base string) {
	t.Helper()
	objs := readManifest(t, manifestDir+"mutatingwebhookconfiguration.yaml")
	cfg := objs[0]
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	for i := range webhooks {
		wh := webhooks[i].(map[string]any)
		path, _, _ := unstructured.NestedString(wh, "clientConfig", "service", "path")
		wh["clientConfig"] = map[string]any{"url": base + path}
	}
	if err := unstructured.SetNestedSlice(cfg.Object, webhooks, "webhooks"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dynamic.Resource(resourceOf(t, cfg)).Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// caPool is what the API server trusts for the webhook: the caBundle.
func (w *liveWebhook) caPool(ctx context.Context) (*x509.CertPool, error) {
	cfg, err := w.c.Dynamic.Resource(mutatingWebhookConfigurations).Get(ctx, webhookConfigName, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	pool := x509.NewCertPool()
	for _, raw := range webhooks {
		b64, _, _ := unstructured.NestedString(raw.(map[string]any), "clientConfig", "caBundle")
		pemBytes, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("caBundle not set yet")
		}
	}
	return pool, nil
}

// get fetches path from the webhook over TLS, trusting only the caBundle.
func (w *liveWebhook) get(ctx context.Context, path string) (int, string, error) {
	pool, err := w.caPool(ctx)
	if err != nil {
		return 0, "", err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + w.addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

// waitReady waits for /readyz over TLS with the caBundle, then until the
// API server itself calls the webhook (it picks up configuration changes
// asynchronously): a dry-run create of a KFP workflow comes back converted.
func (w *liveWebhook) waitReady(ctx context.Context, t *testing.T) {
	t.Helper()
	err := testenv.PollUntil(ctx, "webhook /readyz", nil, func(ctx context.Context) (bool, error) {
		code, _, err := w.get(ctx, "/readyz")
		return code == http.StatusOK, err
	})
	if err != nil {
		t.Fatal(err)
	}
	probe := kfpWorkflow(t, loadCorpus(t)[0].json, "probe")
	err = testenv.PollUntil(ctx, "API server calling the webhook", nil, func(ctx context.Context) (bool, error) {
		out, err := w.c.Dynamic.Resource(workflowsGVR).Namespace(probe.GetNamespace()).Create(ctx, probe.DeepCopy(),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return false, err
		}
		return out.GetAnnotations()[ConvertedAnnotation] != "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// metric returns the value of one sample line of /metrics (0 if absent).
func (w *liveWebhook) metric(ctx context.Context, t *testing.T, sample string) float64 {
	t.Helper()
	code, body, err := w.get(ctx, "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

// Namespaces of the test: enabled selects the manifests' profile
// namespaces, plain is a namespace the webhook must never see.
const (
	enabledNS = "team-a"
	plainNS   = "team-b"
)

func createNamespace(ctx context.Context, t *testing.T, c *testenv.Cluster, name string, labels map[string]string) {
	t.Helper()
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// kfpWorkflow is a compiled workflow as KFP's API server creates it: in
// the run's namespace, named from generateName, with the run's labels and
// annotations and the pipeline-runner account.
func kfpWorkflow(t *testing.T, compiled []byte, run string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(compiled); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace(enabledNS)
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["pipeline/runid"] = "00000000-0000-0000-0000-" + fmt.Sprintf("%012x", len(run))
	u.SetLabels(labels)
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann["pipelines.kubeflow.org/run_name"] = run
	u.SetAnnotations(ann)
	if sa, _, _ := unstructured.NestedString(u.Object, "spec", "serviceAccountName"); sa == "" {
		_ = unstructured.SetNestedField(u.Object, "pipeline-runner", "spec", "serviceAccountName")
	}
	return u
}

// serverSet are the fields the API server adds to every stored object.
var serverSet = []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "name"}

// sentAndStored returns the object as sent and as stored, both without
// server-set metadata, each encoded as sorted-key JSON.
func sentAndStored(t *testing.T, sent, stored *unstructured.Unstructured) ([]byte, []byte) {
	t.Helper()
	clean := func(u *unstructured.Unstructured) []byte {
		u = u.DeepCopy()
		for _, f := range serverSet {
			unstructured.RemoveNestedField(u.Object, "metadata", f)
		}
		b, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return clean(sent), clean(stored)
}
