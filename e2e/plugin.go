package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// PluginClusterRole is the plugin's RBAC from manifests/base, bound in
// every test namespace to the plugin's ServiceAccount.
const PluginClusterRole = "manifests/base/clusterrole.yaml"

// buildPlugin builds the real binary (the module's main package), unless
// one was given. The Go build cache makes this a second or two once warm.
func (s *Stack) buildPlugin(ctx context.Context) error {
	if s.opts.PluginBin != "" {
		s.PluginBin = s.opts.PluginBin
		return nil
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	s.PluginBin = filepath.Join(s.Dir, "kfp-driver-plugin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", s.PluginBin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// registerPlugin renders the plugin ConfigMap with the real `configmap`
// command and applies it, with the plugin's ClusterRole, with the real
// kubectl: what an admin does following the README.
func (s *Stack) registerPlugin(ctx context.Context) error {
	s.PluginConfigMap = filepath.Join(s.Dir, "plugin-configmap.yaml")
	cmd := exec.CommandContext(ctx, s.PluginBin, "configmap", "--namespace", ArgoNamespace, "-o", s.PluginConfigMap)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("configmap command: %w: %s", err, stderr.String())
	}
	if err := s.Cluster.EnsureNamespace(ctx, ArgoNamespace); err != nil {
		return err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	for _, f := range []string{s.PluginConfigMap, filepath.Join(root, PluginClusterRole)} {
		if _, err := os.Stat(f); err != nil {
			return err
		}
		if _, err := s.Cluster.Kubectl(ctx, "apply", "-f", f); err != nil {
			return err
		}
	}
	return nil
}
