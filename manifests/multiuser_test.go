package manifests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

const (
	controllerName = "kubeflow-pipelines-profile-controller"
	envConfigMap   = controllerName + "-env"
	podMetadataMap = "ml-pipeline-driver-agent-pod-metadata"
)

// kinds maps the DecoratorController's attachment resources to kinds.
var kinds = map[string]string{
	"v1/configmaps": "ConfigMap", "v1/secrets": "Secret", "v1/services": "Service",
	"v1/serviceaccounts": "ServiceAccount", "apps/v1/deployments": "Deployment",
	"rbac.authorization.k8s.io/v1/rolebindings": "RoleBinding", "kubeflow.org/v1alpha1/poddefaults": "PodDefault",
}

func TestDecoratorControllerAttachments(t *testing.T) {
	objs, _ := kustomize(t, "overlays/multi-user")
	dc := get(t, objs, "DecoratorController", controllerName)
	rules, _, _ := unstructured.NestedSlice(dc.Object, "spec", "attachments")
	var got []string
	for _, r := range rules {
		m := r.(map[string]any)
		kind, ok := kinds[m["apiVersion"].(string)+"/"+m["resource"].(string)]
		if !ok {
			t.Errorf("attachment rule %v: unknown resource", m)
			continue
		}
		got = append(got, kind+"."+m["apiVersion"].(string))
		if method, _, _ := unstructured.NestedString(m, "updateStrategy", "method"); method != "InPlace" {
			t.Errorf("%s: updateStrategy %q, want InPlace (settings changes must reach existing children)", kind, method)
		}
	}
	want := append([]string(nil), profile.AttachmentTypes...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("attachments %v, the hook emits %v", got, want)
	}
	parents, _, _ := unstructured.NestedSlice(dc.Object, "spec", "resources")
	if len(parents) != 1 || parents[0].(map[string]any)["resource"] != "namespaces" {
		t.Fatalf("resources %v, want namespaces", parents)
	}
	if sel, _, _ := unstructured.NestedString(parents[0].(map[string]any), "labelSelector", "matchLabels", profile.EnabledLabel); sel != "true" {
		t.Errorf("namespaces not selected by %s=true", profile.EnabledLabel)
	}
	svc := get(t, objs, "Service", controllerName)
	url := str(t, dc, "spec", "hooks", "sync", "webhook", "url")
	if want := "http://" + svc.GetName() + "." + svc.GetNamespace() + "/sync"; url != want {
		t.Errorf("hook url %s, want %s", url, want)
	}
}

func TestControllerDeployment(t *testing.T) {
	objs, _ := kustomize(t, "overlays/multi-user")
	dep := get(t, objs, "Deployment", controllerName)
	pod, _, _ := unstructured.NestedMap(dep.Object, "spec", "template", "spec")
	for path, want := range map[string]any{
		"automountServiceAccountToken": false, "enableServiceLinks": false,
		"securityContext.runAsNonRoot": true,
	} {
		if got, _, _ := unstructured.NestedFieldNoCopy(pod, strings.Split(path, ".")...); got != want {
			t.Errorf("pod %s = %v, want %v", path, got, want)
		}
	}
	c := pod["containers"].([]any)[0].(map[string]any)
	for path, want := range map[string]any{
		"securityContext.readOnlyRootFilesystem": true, "securityContext.allowPrivilegeEscalation": false,
	} {
		if got, _, _ := unstructured.NestedFieldNoCopy(c, strings.Split(path, ".")...); got != want {
			t.Errorf("container %s = %v, want %v", path, got, want)
		}
	}
	if args := c["args"].([]any); len(args) == 0 || args[0] != "sync" {
		t.Errorf("args %v, want the sync subcommand", args)
	}
	if c["image"] != pluginconfig.DefaultImage {
		t.Errorf("image %v, want the plugin image %s (one binary)", c["image"], pluginconfig.DefaultImage)
	}
}

// The settings the manifests give the controller must pass its own start-up
// check, and the pod metadata it mounts must load.
func TestControllerSettingsValid(t *testing.T) {
	for _, dir := range []string{"overlays/multi-user", "overlays/istio-strict-mtls"} {
		t.Run(dir, func(t *testing.T) {
			objs, _ := kustomize(t, dir)
			environ := []string{"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y"} // from the Secret

			data, _, _ := unstructured.NestedStringMap(generated(t, objs, "ConfigMap", envConfigMap).Object, "data")
			for k, v := range data {
				environ = append(environ, k+"="+v)
			}
			dep := get(t, objs, "Deployment", controllerName)
			c := dep.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			var dir string
			for _, e := range c["env"].([]any) {
				e := e.(map[string]any)
				if v, ok := e["value"].(string); ok {
					environ = append(environ, e["name"].(string)+"="+v)
				}
				if e["name"] == profile.EnvPodMetadataDir {
					dir = e["value"].(string)
				}
			}
			s, err := profile.LoadSettings(environ)
			if err != nil {
				t.Fatalf("the manifests' settings fail the controller's start-up check:\n%v", err)
			}
			if s.Credentials != profile.CredentialsPerNamespace {
				t.Errorf("credentials %q, want %s as KFP's SeaweedFS install", s.Credentials, profile.CredentialsPerNamespace)
			}
			if s.PodMetadataDir != dir || dir == "" {
				t.Errorf("pod metadata dir %q", s.PodMetadataDir)
			}
			mounted := false
			for _, m := range c["volumeMounts"].([]any) {
				mounted = mounted || m.(map[string]any)["mountPath"] == dir
			}
			if !mounted {
				t.Errorf("nothing mounted at %s", dir)
			}
		})
	}
}

// podMetadata checks that the ConfigMap the controller mounts carries the
// plugin ConfigMap's annotations, and returns the hook's view of them.
func podMetadata(t *testing.T, objs []*unstructured.Unstructured) pluginconfig.PodMetadata {
	t.Helper()
	plugin := get(t, objs, "ConfigMap", pluginconfig.ConfigMapName)
	copied := get(t, objs, "ConfigMap", podMetadataMap)
	dir := t.TempDir()
	for file, annotation := range map[string]string{
		profile.LabelsFile: pluginconfig.PodLabelsAnnotation, profile.AnnotationsFile: pluginconfig.PodAnnotationsAnnotation,
	} {
		v := str(t, copied, "data", file)
		if want := plugin.GetAnnotations()[annotation]; v != want {
			t.Errorf("%s data %s = %s, the plugin ConfigMap says %s", podMetadataMap, file, v, want)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md, err := profile.NewPodMetadataSource(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestMultiUserPodMetadata(t *testing.T) {
	objs, _ := kustomize(t, "overlays/multi-user")
	if md := podMetadata(t, objs); len(md.Labels)+len(md.Annotations) != 0 {
		t.Errorf("defaults carry pod metadata: %+v", md)
	}
}

func TestMetacontrollerRBAC(t *testing.T) {
	objs, _ := kustomize(t, "overlays/multi-user")
	role := get(t, objs, "ClusterRole", controllerName+"-metacontroller")
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	allowed := func(group, resource, verb, name string) bool {
		for _, r := range rules {
			r := r.(map[string]any)
			if has(r["apiGroups"], group) && has(r["resources"], resource) && has(r["verbs"], verb) &&
				(r["resourceNames"] == nil || has(r["resourceNames"], name)) {
				return true
			}
		}
		return false
	}
	for key := range kinds {
		i := strings.LastIndex(key, "/")
		group, resource := strings.TrimSuffix(strings.TrimSuffix(key[:i], "/v1"), "/v1alpha1"), key[i+1:]
		if group == "v1" {
			group = ""
		}
		for _, verb := range []string{"list", "watch", "create", "update", "delete"} {
			if !allowed(group, resource, verb, "") {
				t.Errorf("metacontroller may not %s %s", verb, key)
			}
		}
	}
	if !allowed("rbac.authorization.k8s.io", "clusterroles", "bind", profile.DefaultClusterRole) {
		t.Error("metacontroller cannot bind the plugin ClusterRole (RoleBinding creation would be refused)")
	}
	if !allowed("", "namespaces", "watch", "") || !allowed("", "namespaces/status", "update", "") {
		t.Error("metacontroller cannot watch namespaces and set their status")
	}
}

func has(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == s || v == "*" {
			return true
		}
	}
	return false
}
