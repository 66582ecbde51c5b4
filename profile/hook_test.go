package profile

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const testNS = "team-a"

// testSettings are fixed settings for golden output (not the defaults:
// every setting visibly reaches its child).
func testSettings() Settings {
	return Settings{
		ClusterDomain: ".svc.cluster.local", ObjectStoreHost: "seaweedfs",
		FrontendImage: "ghcr.io/kubeflow/kfp-frontend", FrontendTag: "2.15.0",
		MinioAccessKey: "minio", MinioSecretKey: "minio123", Credentials: CredentialsShared,
		ControllerPort: 8080, ClusterRole: DefaultClusterRole, WorkflowSA: DefaultWorkflowSA,
	}
}

// testKeys is the shared key of testSettings.
func testKeys() objectstore.Issuer {
	return objectstore.Shared{Key: objectstore.Key{AccessKey: "minio", SecretKey: "minio123"}}
}

func testSecret() Object {
	return ArtifactSecretFor(testNS, objectstore.Key{AccessKey: "minio", SecretKey: "minio123"})
}

func noMetadata() pluginconfig.PodMetadata {
	return pluginconfig.PodMetadata{Labels: map[string]string{}, Annotations: map[string]string{}}
}

func istioMetadata() pluginconfig.PodMetadata {
	return pluginconfig.PodMetadata{
		Labels:      map[string]string{"sidecar.istio.io/inject": "true"},
		Annotations: map[string]string{"proxy.istio.io/config": `{"holdApplicationUntilProxyStarts": true}`},
	}
}

func namespace(enabled bool) Object {
	md := map[string]any{"name": testNS, "uid": "5f1c0d3e-0000-4000-8000-000000000001"}
	if enabled {
		md["labels"] = map[string]any{EnabledLabel: "true", "istio-injection": "enabled"}
	}
	return Object{"apiVersion": "v1", "kind": "Namespace", "metadata": md}
}

// emptyAttachments is what metacontroller sends before anything exists: an
// entry for every attachment rule of the DecoratorController.
func emptyAttachments() map[string]map[string]Object {
	m := map[string]map[string]Object{}
	for _, k := range AttachmentTypes {
		m[k] = map[string]Object{}
	}
	return m
}

func TestSyncGolden(t *testing.T) {
	proxy := testSettings()
	proxy.ArtifactsProxy, proxy.DisableIstioSidecar = true, true
	token := testSettings()
	token.APIToken = true
	root := testSettings()
	root.DefaultPipelineRoot = "s3://team-bucket/pipelines"
	withSecret := emptyAttachments()
	withSecret["Secret.v1"][testNS+"/"+ArtifactSecret] = existingSecret()

	cases := []struct {
		name     string
		enabled  bool
		settings Settings
		md       pluginconfig.PodMetadata
		observed map[string]map[string]Object
	}{
		{"disabled", false, testSettings(), istioMetadata(), emptyAttachments()},
		{"enabled", true, testSettings(), noMetadata(), emptyAttachments()},
		{"proxy-on", true, proxy, noMetadata(), emptyAttachments()},
		{"existing-secret", true, testSettings(), noMetadata(), withSecret},
		{"pipeline-root", true, root, noMetadata(), emptyAttachments()},
		{"pod-metadata", true, testSettings(), istioMetadata(), emptyAttachments()},
		{"api-token", true, token, noMetadata(), emptyAttachments()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := Sync(context.Background(), &Request{Object: namespace(c.enabled), Attachments: c.observed}, c.settings, c.md, testKeys())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, resp)
		})
	}
}

func existingSecret() Object {
	return Object{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{
			"name": ArtifactSecret, "namespace": testNS, "resourceVersion": "42", "uid": "abc",
			"managedFields": []any{map[string]any{"manager": "kubectl"}},
		},
		"data": map[string]any{"accesskey": "aXNzdWVkLWZvci10ZWFtLWE=", "secretkey": "czNjcjN0"},
	}
}

// golden compares resp with testdata/golden/<name>.json (rewritten with
// -update).
func golden(t *testing.T, name string, resp *Response) {
	t.Helper()
	got, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./profile -run TestSyncGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

// byType indexes a response's attachments by "<Kind>.<apiVersion> ns/name".
func byType(attachments []Object) map[string]Object {
	m := map[string]Object{}
	for _, a := range attachments {
		m[identity(typeKey(a), namespaceOf(a)+"/"+name(a))] = a
	}
	return m
}

func syncNS(t *testing.T, s Settings, md pluginconfig.PodMetadata, observed map[string]map[string]Object) *Response {
	t.Helper()
	resp, err := Sync(context.Background(), &Request{Object: namespace(true), Attachments: observed}, s, md, testKeys())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDisabledNamespaceGetsNothing(t *testing.T) {
	for _, v := range []any{nil, "false", "True", "yes"} {
		ns := namespace(false)
		if v != nil {
			metadata(ns)["labels"] = map[string]any{EnabledLabel: v}
		}
		resp, err := Sync(context.Background(), &Request{Object: ns, Attachments: emptyAttachments()}, testSettings(), istioMetadata(), testKeys())
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Attachments) != 0 || len(resp.Status) != 0 {
			t.Errorf("label %v: got %d attachments, status %v", v, len(resp.Attachments), resp.Status)
		}
	}
}

func TestProxyOnlyWhenEnabled(t *testing.T) {
	off := byType(syncNS(t, testSettings(), noMetadata(), emptyAttachments()).Attachments)
	s := testSettings()
	s.ArtifactsProxy = true
	on := byType(syncNS(t, s, noMetadata(), emptyAttachments()).Attachments)
	for _, id := range []string{"Deployment.apps/v1 team-a/" + ArtifactProxy, "Service.v1 team-a/" + ArtifactProxy} {
		if _, ok := off[id]; ok {
			t.Errorf("proxy off: %s emitted", id)
		}
		if _, ok := on[id]; !ok {
			t.Errorf("proxy on: %s missing", id)
		}
	}
	if len(on) != len(off)+2 {
		t.Errorf("proxy on emits %d attachments, off %d: want exactly the Deployment and Service more", len(on), len(off))
	}
}

func TestExistingSecretKept(t *testing.T) {
	observed := emptyAttachments()
	observed["Secret.v1"][testNS+"/"+ArtifactSecret] = existingSecret()
	got := byType(syncNS(t, testSettings(), noMetadata(), observed).Attachments)["Secret.v1 team-a/"+ArtifactSecret]
	data := got["data"].(map[string]any)
	if data["accesskey"] != "aXNzdWVkLWZvci10ZWFtLWE=" || data["secretkey"] != "czNjcjN0" {
		t.Errorf("existing credentials replaced: %v", data)
	}
	md := metadata(got)
	for _, server := range []string{"resourceVersion", "uid", "managedFields"} {
		if _, ok := md[server]; ok {
			t.Errorf("server field %s re-emitted", server)
		}
	}

	fresh := byType(syncNS(t, testSettings(), noMetadata(), emptyAttachments()).Attachments)["Secret.v1 team-a/"+ArtifactSecret]
	key, _ := base64.StdEncoding.DecodeString(fresh["data"].(map[string]any)["accesskey"].(string))
	if string(key) != "minio" {
		t.Errorf("new Secret accesskey = %q, want the configured MINIO_ACCESS_KEY", key)
	}
}

func TestPodDefaultFollowsPluginConfig(t *testing.T) {
	const id = "PodDefault.kubeflow.org/v1alpha1 team-a/" + PodDefaultName
	if _, ok := byType(syncNS(t, testSettings(), noMetadata(), emptyAttachments()).Attachments)[id]; ok {
		t.Error("PodDefault emitted without labels, annotations or API token: it would do nothing")
	}
	pd := byType(syncNS(t, testSettings(), istioMetadata(), emptyAttachments()).Attachments)[id]
	if pd == nil {
		t.Fatal("no PodDefault with pod metadata configured")
	}
	spec := pd["spec"].(map[string]any)
	sel := spec["selector"].(map[string]any)["matchLabels"].(map[string]any)
	if sel["workflows.argoproj.io/component"] != "agent" || len(sel) != 1 {
		t.Errorf("selector %v: must select exactly Argo's agent pods", sel)
	}
	if spec["labels"].(map[string]any)["sidecar.istio.io/inject"] != "true" {
		t.Errorf("labels %v", spec["labels"])
	}
	if !strings.Contains(spec["annotations"].(map[string]any)["proxy.istio.io/config"].(string), "holdApplicationUntilProxyStarts") {
		t.Errorf("annotations %v", spec["annotations"])
	}
	if _, ok := spec["volumes"]; ok {
		t.Error("API token volume without the setting")
	}
}

func TestReservedKeysDroppedFromFiles(t *testing.T) {
	dir := writeMetadata(t,
		`{"sidecar.istio.io/inject":"true","pipelines.kubeflow.org/cache_enabled":"false","workflows.argoproj.io/workflow":"x"}`,
		`{"workflows.argoproj.io/controller-instanceid":"evil","prometheus.io/scrape":"true"}`)
	md, err := NewPodMetadataSource(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	pd := byType(syncNS(t, testSettings(), md, emptyAttachments()).Attachments)["PodDefault.kubeflow.org/v1alpha1 team-a/"+PodDefaultName]
	spec := pd["spec"].(map[string]any)
	b, _ := json.Marshal(spec)
	for _, field := range []string{"labels", "annotations"} {
		for k := range spec[field].(map[string]any) {
			if pluginconfig.IsReserved(k) {
				t.Errorf("reserved key %s reached the PodDefault's %s: %s", k, field, b)
			}
		}
	}
	if spec["labels"].(map[string]any)["sidecar.istio.io/inject"] != "true" || spec["annotations"].(map[string]any)["prometheus.io/scrape"] != "true" {
		t.Errorf("allowed keys lost: %s", b)
	}
}

func TestPluginAccountAndSecrets(t *testing.T) {
	got := byType(syncNS(t, testSettings(), noMetadata(), emptyAttachments()).Attachments)
	sa := got["ServiceAccount.v1 team-a/ml-pipeline-driver-agent-executor-plugin"]
	if sa == nil {
		t.Fatal("plugin ServiceAccount missing")
	}
	// Argo finds the token Secret by name; a secrets[] reference would make
	// Kubernetes treat it as a legacy auto-generated token.
	if secrets, ok := sa["secrets"]; ok {
		t.Errorf("the plugin ServiceAccount must not list its token Secret: %v", secrets)
	}
	for account, secret := range map[string]string{
		"ml-pipeline-driver-agent-executor-plugin": "ml-pipeline-driver-agent-executor-plugin.service-account-token",
		"default-editor": "default-editor.service-account-token",
	} {
		s := got["Secret.v1 team-a/"+secret]
		if s == nil || s["type"] != "kubernetes.io/service-account-token" || annotation(s, "kubernetes.io/service-account.name") != account {
			t.Errorf("token Secret %s: %v", secret, s)
		}
	}
	rb := got["RoleBinding.rbac.authorization.k8s.io/v1 team-a/ml-pipeline-driver-agent-executor-plugin"]
	ref := rb["roleRef"].(map[string]any)
	subj := rb["subjects"].([]any)[0].(map[string]any)
	if ref["kind"] != "ClusterRole" || ref["name"] != DefaultClusterRole || subj["name"] != PluginServiceAccount || subj["namespace"] != testNS {
		t.Errorf("RoleBinding %v", rb)
	}
	// The agent container runs as the workflow's account.
	agent := got["RoleBinding.rbac.authorization.k8s.io/v1 team-a/"+AgentRoleBinding]
	if agent == nil {
		t.Fatal("agent RoleBinding for the workflow's account missing")
	}
	ref = agent["roleRef"].(map[string]any)
	subj = agent["subjects"].([]any)[0].(map[string]any)
	if ref["name"] != pluginconfig.AgentClusterRole || subj["name"] != "default-editor" || subj["namespace"] != testNS {
		t.Errorf("agent RoleBinding %v", agent)
	}
}

// recordingIssuer fails while err is set and records what the hook asked.
type recordingIssuer struct {
	err    error
	asked  []string
	stored []string
}

func (r *recordingIssuer) For(_ context.Context, ns string) (objectstore.Key, error) {
	r.asked = append(r.asked, ns)
	if r.err != nil {
		return objectstore.Key{}, r.err
	}
	return objectstore.Key{AccessKey: "issued-" + ns, SecretKey: "s"}, nil
}

func (r *recordingIssuer) Stored(ns string) { r.stored = append(r.stored, ns) }

func TestIssuerFailureKeepsTheRestAndSaysWhy(t *testing.T) {
	keys := &recordingIssuer{err: errors.New("creating the access key of user \"team-a\" through IAM at http://iam:8111: connection refused")}
	sync := func() *Response {
		resp, err := Sync(context.Background(), &Request{Object: namespace(true), Attachments: emptyAttachments()}, testSettings(), noMetadata(), keys)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := sync()
	got := byType(resp.Attachments)
	if _, ok := got["Secret.v1 team-a/"+ArtifactSecret]; ok {
		t.Fatal("a Secret was emitted without a key")
	}
	if _, ok := got["ConfigMap.v1 team-a/"+LauncherConfigMap]; !ok || len(got) == 0 {
		t.Fatalf("the other children are missing: %v", got)
	}
	msg, _ := resp.Status[ObjectStoreErrorKey].(string)
	if resp.Status[ReadyKey] != "False" || !strings.Contains(msg, `namespace "team-a"`) || !strings.Contains(msg, "http://iam:8111") {
		t.Fatalf("status %v: want not ready and the cause", resp.Status)
	}

	keys.err = nil
	resp = sync()
	secret := byType(resp.Attachments)["Secret.v1 team-a/"+ArtifactSecret]
	ak, _ := base64.StdEncoding.DecodeString(secret["data"].(map[string]any)["accesskey"].(string))
	if string(ak) != "issued-team-a" {
		t.Fatalf("after recovery the Secret carries %q", ak)
	}
	if _, ok := resp.Status[ObjectStoreErrorKey]; ok {
		t.Fatalf("status still carries the error: %v", resp.Status)
	}

	// Observed: kept, the issuer told and not asked again.
	asked := len(keys.asked)
	observed := emptyAttachments()
	observed["Secret.v1"][testNS+"/"+ArtifactSecret] = secret
	syncNS(t, testSettings(), noMetadata(), observed) // with testKeys: must not matter
	if _, err := Sync(context.Background(), &Request{Object: namespace(true), Attachments: observed}, testSettings(), noMetadata(), keys); err != nil {
		t.Fatal(err)
	}
	if len(keys.asked) != asked || len(keys.stored) != 1 || keys.stored[0] != testNS {
		t.Fatalf("with the Secret observed: asked %v, stored %v", keys.asked, keys.stored)
	}
}
