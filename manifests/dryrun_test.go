package manifests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// Every overlay (and the Argo component on a stand-in of Argo's Deployment,
// and the cert-manager component on the standalone overlay)
// passes a server-side dry-run apply on a real kube-apiserver: schemas,
// immutable fields, RBAC objects and the CRD-backed kinds (PodDefault;
// stand-ins for DecoratorController, PeerAuthentication and cert-manager's
// Issuer and Certificate) are accepted.
func TestOverlaysServerSideDryRun(t *testing.T) {
	testenv.RequireTools(t, testenv.Kubectl)
	c := testenv.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.InstallCRDs(ctx, "testdata/crds"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureNamespace(ctx, "kubeflow"); err != nil {
		t.Fatal(err)
	}
	t.Run("rejects an invalid object", func(t *testing.T) {
		// Proves the dry run validates: a misspelt field fails.
		file := filepath.Join(t.TempDir(), "bad.yaml")
		bad := "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x, namespace: kubeflow}\nsecretz: []\n"
		if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "-f", file); err == nil || !strings.Contains(err.Error(), "secretz") {
			t.Fatalf("unknown field accepted: %v", err)
		}
	})
	components := map[string]string{
		argoKustomization(t): "components/argo-executor-plugins",
		componentKustomization(t, "overlays/standalone", "components/webhook-cert-manager"): "components/webhook-cert-manager",
	}
	dirs := append([]string(nil), Overlays...)
	for dir := range components {
		dirs = append(dirs, dir)
	}
	for _, dir := range dirs {
		name := dir
		if filepath.IsAbs(dir) {
			name = components[dir]
		}
		t.Run(name, func(t *testing.T) {
			objs, raw := kustomize(t, dir)
			file := filepath.Join(t.TempDir(), "build.yaml")
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server",
				"--field-manager=kfp-driver-plugin-manifests-test", "-n", "kubeflow", "-f", file)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(out), "serverside-applied (server dry run)"); n != len(objs) {
				t.Errorf("%d of %d objects applied:\n%s", n, len(objs), out)
			}
		})
	}
}
