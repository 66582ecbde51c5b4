package manifests

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// Overlays are every directory a user builds; TestOverlaysBuild and the
// dry-run test cover each.
var Overlays = []string{"base", "overlays/standalone", "overlays/multi-user", "overlays/istio-strict-mtls"}

// kustomize builds dir with the real kubectl (hack/tools.sh) and returns
// the objects and the raw YAML.
func kustomize(t *testing.T, dir string) ([]*unstructured.Unstructured, []byte) {
	t.Helper()
	tools := testenv.RequireTools(t, testenv.Kubectl)
	kubectl, err := testenv.ToolPath(tools, testenv.Kubectl)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	return decode(t, stdout.Bytes()), stdout.Bytes()
}

func decode(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decode: %v", err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// get returns the one object of kind and name, failing the test otherwise.
func get(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s %q in the build, want 1", len(found), kind, name)
	}
	return found[0]
}

// generated returns the one object of kind named "<name>-<hash>" (a
// kustomize generator's output).
func generated(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && strings.HasPrefix(o.GetName(), name+"-") {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d generated %s %q in the build, want 1", len(found), kind, name)
	}
	return found[0]
}

func str(t *testing.T, o *unstructured.Unstructured, path ...string) string {
	t.Helper()
	s, ok, err := unstructured.NestedString(o.Object, path...)
	if !ok || err != nil {
		t.Fatalf("%s %s: no string at %s (%v)", o.GetKind(), o.GetName(), strings.Join(path, "."), err)
	}
	return s
}

func TestOverlaysBuild(t *testing.T) {
	for _, dir := range Overlays {
		t.Run(dir, func(t *testing.T) {
			objs, _ := kustomize(t, dir)
			if len(objs) == 0 {
				t.Fatal("empty build")
			}
			for _, o := range objs {
				if clusterScoped[o.GetKind()] && o.GetNamespace() != "" {
					t.Errorf("cluster-scoped %s %s got namespace %q", o.GetKind(), o.GetName(), o.GetNamespace())
				}
				if !clusterScoped[o.GetKind()] && dir != "base" && o.GetNamespace() == "" {
					t.Errorf("%s %s has no namespace", o.GetKind(), o.GetName())
				}
			}
		})
	}
}

var clusterScoped = map[string]bool{
	"ClusterRole": true, "ClusterRoleBinding": true, "DecoratorController": true, "CustomResourceDefinition": true,
	"MutatingWebhookConfiguration": true,
}

// Files under overlays are only meaningful if their directory is built by
// some test: catch a new overlay nobody tests.
func TestEveryOverlayTested(t *testing.T) {
	entries, err := os.ReadDir("overlays")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, o := range Overlays {
		listed[o] = true
	}
	for _, e := range entries {
		if p := filepath.Join("overlays", e.Name()); e.IsDir() && !listed[p] {
			t.Errorf("%s is not in Overlays", p)
		}
	}
}
