package manifests

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/webhook"
)

const (
	webhookName       = "kfp-driver-plugin-webhook"
	webhookConfigName = "admission-kfp-driver-plugin"
)

func typed[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return out
}

// TestWebhookDeployment: two replicas that survive a drain one at a time,
// hardened, the plugin's image (one binary), serving what the
// MutatingWebhookConfiguration and the Service expect.
func TestWebhookDeployment(t *testing.T) {
	for _, dir := range Overlays {
		t.Run(dir, func(t *testing.T) {
			objs, _ := kustomize(t, dir)
			dep := typed[appsv1.Deployment](t, get(t, objs, "Deployment", webhookName))
			pod := dep.Spec.Template
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
				t.Errorf("replicas %v, want 2", dep.Spec.Replicas)
			}
			psc := pod.Spec.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod security context %+v", psc)
			}
			if pod.Labels["sidecar.istio.io/inject"] != "false" {
				t.Error("the webhook pod must stay out of the mesh: the API server calls it with plain TLS")
			}
			c := pod.Spec.Containers[0]
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("container security context %+v", sc)
			}
			if c.Image != pluginconfig.DefaultImage || len(c.Args) == 0 || c.Args[0] != "webhook" {
				t.Errorf("image %s args %v", c.Image, c.Args)
			}
			if !slices.Contains(c.Args, "--webhook-config="+webhookConfigName) {
				t.Errorf("args %v do not name the MutatingWebhookConfiguration whose caBundle it keeps", c.Args)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Error("probes: want /readyz and /healthz")
			}
			if pod.Spec.ServiceAccountName != webhookName {
				t.Errorf("service account %s", pod.Spec.ServiceAccountName)
			}
			pdb := typed[policyv1.PodDisruptionBudget](t, get(t, objs, "PodDisruptionBudget", webhookName))
			if sel, _ := metaSelector(pdb.Spec.Selector); !sel.Matches(labels.Set(pod.Labels)) || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
				t.Errorf("PodDisruptionBudget %+v does not keep one webhook pod", pdb.Spec)
			}
			svc := typed[corev1.Service](t, get(t, objs, "Service", webhookName))
			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) || svc.Spec.Ports[0].TargetPort.StrVal != c.Ports[0].Name {
				t.Errorf("Service %+v does not reach the webhook container", svc.Spec)
			}
		})
	}
}

// TestWebhookConfiguration: per overlay, the failure policies and
// namespace selectors the README documents, pointing at the Service.
func TestWebhookConfiguration(t *testing.T) {
	for dir, want := range map[string]struct {
		namespaceKey, podPolicy string
	}{
		"base":                       {"pipelines.kubeflow.org/enabled", "Ignore"},
		"overlays/standalone":        {"kubernetes.io/metadata.name", "Ignore"},
		"overlays/multi-user":        {"pipelines.kubeflow.org/enabled", "Ignore"},
		"overlays/istio-strict-mtls": {"pipelines.kubeflow.org/enabled", "Fail"},
	} {
		t.Run(dir, func(t *testing.T) {
			objs, _ := kustomize(t, dir)
			cfg := typed[admissionregistrationv1.MutatingWebhookConfiguration](t, get(t, objs, "MutatingWebhookConfiguration", webhookConfigName))
			if cfg.Name >= "istio-sidecar-injector" {
				t.Errorf("%s sorts after istio-sidecar-injector: Istio would not see the injection label", cfg.Name)
			}
			byPath := map[string]admissionregistrationv1.MutatingWebhook{}
			for _, wh := range cfg.Webhooks {
				svc := wh.ClientConfig.Service
				if svc == nil || svc.Name != webhookName || (dir != "base" && svc.Namespace != "kubeflow") || svc.Path == nil {
					t.Fatalf("%s: clientConfig %+v", wh.Name, wh.ClientConfig)
				}
				if wh.TimeoutSeconds == nil || *wh.TimeoutSeconds > 5 || *wh.SideEffects != admissionregistrationv1.SideEffectClassNone {
					t.Errorf("%s: timeout %v, side effects %v", wh.Name, wh.TimeoutSeconds, wh.SideEffects)
				}
				keys := map[string]bool{}
				for _, e := range wh.NamespaceSelector.MatchExpressions {
					keys[e.Key] = true
				}
				if !keys[want.namespaceKey] || !keys["kfp-driver-plugin.github.io/webhook"] {
					t.Errorf("%s: namespace selector %+v", wh.Name, wh.NamespaceSelector)
				}
				byPath[*svc.Path] = wh
			}
			wf, pods := byPath[webhook.WorkflowsPath], byPath[webhook.PodsPath]
			if wf.FailurePolicy == nil || *wf.FailurePolicy != admissionregistrationv1.Ignore {
				t.Errorf("workflows failure policy %v, want Ignore", wf.FailurePolicy)
			}
			if pods.FailurePolicy == nil || string(*pods.FailurePolicy) != want.podPolicy {
				t.Errorf("agent pods failure policy %v, want %s", pods.FailurePolicy, want.podPolicy)
			}
			if pods.ObjectSelector == nil || pods.ObjectSelector.MatchLabels["workflows.argoproj.io/component"] != "agent" {
				t.Errorf("agent pods object selector %+v", pods.ObjectSelector)
			}
			if len(wf.Rules) != 1 || wf.Rules[0].Resources[0] != "workflows" || len(pods.Rules) != 1 || pods.Rules[0].Resources[0] != "pods" {
				t.Errorf("rules %+v / %+v", wf.Rules, pods.Rules)
			}
		})
	}
}

// TestWebhookRBAC: the webhook may read one ConfigMap and keep the caBundle
// of one MutatingWebhookConfiguration, nothing more, and every rule says why.
func TestWebhookRBAC(t *testing.T) {
	objs, _ := kustomize(t, "overlays/standalone")
	role := typed[rbacv1.ClusterRole](t, get(t, objs, "ClusterRole", webhookName))
	wantCluster := []rbacv1.PolicyRule{{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations"},
		ResourceNames: []string{webhookConfigName}, Verbs: []string{"get", "update"}}}
	if !reflect.DeepEqual(role.Rules, wantCluster) {
		t.Errorf("ClusterRole rules %+v", role.Rules)
	}
	nsRole := typed[rbacv1.Role](t, get(t, objs, "Role", webhookName))
	wantNS := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
		ResourceNames: []string{pluginconfig.ConfigMapName}, Verbs: []string{"get", "list", "watch"}}}
	if !reflect.DeepEqual(nsRole.Rules, wantNS) {
		t.Errorf("Role rules %+v", nsRole.Rules)
	}
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		b := typed[rbacv1.RoleBinding](t, get(t, objs, kind, webhookName))
		if len(b.Subjects) != 1 || b.Subjects[0].Name != webhookName || b.Subjects[0].Namespace != "kubeflow" {
			t.Errorf("%s subjects %+v", kind, b.Subjects)
		}
	}
	raw, err := os.ReadFile("base/webhook/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "- apiGroups") && (i == 0 || !strings.HasPrefix(lines[i-1], "#")) {
			t.Errorf("rbac.yaml line %d: rule without a comment saying why", i+1)
		}
	}
}

// TestWebhookCertManagerComponent: with the component the webhook serves
// cert-manager's certificate from the mounted Secret, the CA injector
// fills the caBundle, and the webhook loses its access to the webhook
// configuration.
func TestWebhookCertManagerComponent(t *testing.T) {
	dir := componentKustomization(t, "overlays/standalone", "components/webhook-cert-manager")
	objs, _ := kustomize(t, dir)
	dep := typed[appsv1.Deployment](t, get(t, objs, "Deployment", webhookName))
	c := dep.Spec.Template.Spec.Containers[0]
	var mountPath string
	for _, m := range c.VolumeMounts {
		if m.Name == "tls" {
			mountPath = m.MountPath
		}
	}
	if mountPath == "" || !slices.Contains(c.Args, "--tls-cert-file="+mountPath+"/tls.crt") || !slices.Contains(c.Args, "--tls-key-file="+mountPath+"/tls.key") {
		t.Errorf("args %v, mounts %+v", c.Args, c.VolumeMounts)
	}
	cert := get(t, objs, "Certificate", webhookName)
	secret := str(t, cert, "spec", "secretName")
	found := false
	for _, v := range dep.Spec.Template.Spec.Volumes {
		found = found || v.Secret != nil && v.Secret.SecretName == secret
	}
	if !found {
		t.Errorf("the Certificate's Secret %s is not mounted", secret)
	}
	dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if !slices.Contains(dns, webhookName+".kubeflow.svc") {
		t.Errorf("certificate names %v lack the Service", dns)
	}
	cfg := get(t, objs, "MutatingWebhookConfiguration", webhookConfigName)
	if got := cfg.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != "kubeflow/"+cert.GetName() {
		t.Errorf("inject-ca-from %q", got)
	}
	for _, o := range objs {
		if (o.GetKind() == "ClusterRole" || o.GetKind() == "ClusterRoleBinding") && o.GetName() == webhookName {
			t.Errorf("%s %s still granted with cert-manager", o.GetKind(), o.GetName())
		}
	}
}

// componentKustomization writes a kustomization of base with a component,
// as a user's would.
func componentKustomization(t *testing.T, base, component string) string {
	t.Helper()
	dir := t.TempDir()
	rel := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := filepath.Rel(dir, abs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := "resources: [" + rel(base) + "]\ncomponents: [" + rel(component) + "]\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func metaSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}
