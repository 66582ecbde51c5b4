package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ToolsEnv names the environment variable that overrides the tools directory.
const ToolsEnv = "KFP_PLUGIN_TOOLS"

// Names of the binaries hack/tools.sh builds.
const (
	Etcd               = "etcd"
	KubeAPIServer      = "kube-apiserver"
	Kubectl            = "kubectl"
	WorkflowController = "workflow-controller"
	Argoexec           = "argoexec"
	ArgoCLI            = "argo"
	Kubelet            = "kubelet"
	ControllerManager  = "kube-controller-manager"
	Scheduler          = "kube-scheduler"
)

// ErrToolsMissing is wrapped by errors about absent tool binaries or CRDs.
var ErrToolsMissing = errors.New("test tools missing")

// Tools returns the directory holding the tool binaries: $KFP_PLUGIN_TOOLS if
// set, else .tools/bin under the repository root (found by walking up from the
// working directory to go.mod). Directory layout next to it: ../argo-crds and
// ../kubeflow-crds.
func Tools() (string, error) {
	if dir := os.Getenv(ToolsEnv); dir != "" {
		return existingDir(dir, "$"+ToolsEnv)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return existingDir(filepath.Join(root, ".tools", "bin"), "tools directory")
}

// RepoRoot walks up from the working directory to the first directory with a
// go.mod: tests run in their package directory, the harness anywhere below.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

func existingDir(dir, what string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", what, dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s %s is not a directory: %w", what, abs, ErrToolsMissing)
	}
	return abs, nil
}

// ToolPath returns the path of one binary in dir, or an ErrToolsMissing error.
func ToolPath(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s not found in %s: %w", name, dir, ErrToolsMissing)
	}
	return p, nil
}

// DefaultCRDs returns the CRD directories hack/tools.sh installs next to the
// tools directory: Argo's minimal CRDs and our PodDefault stand-in.
func DefaultCRDs(toolsDir string) []string {
	base := filepath.Dir(toolsDir)
	return []string{filepath.Join(base, "argo-crds"), filepath.Join(base, "kubeflow-crds")}
}

// ToolsRequired reports whether a missing tool must fail rather than skip.
func ToolsRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("KFP_PLUGIN_REQUIRE_TOOLS") == "1"
}

// RequireTools returns the tools directory after checking that the named
// binaries (and the default CRDs) exist. When they do not, the test is skipped
// with a hint at hack/tools.sh, or failed under CI=true /
// KFP_PLUGIN_REQUIRE_TOOLS=1.
func RequireTools(t testing.TB, names ...string) string {
	t.Helper()
	dir, err := checkTools(names)
	if err == nil {
		return dir
	}
	if ToolsRequired() {
		t.Fatalf("%v; build them with hack/tools.sh (not skipping: CI=true or KFP_PLUGIN_REQUIRE_TOOLS=1)", err)
	}
	t.Skipf("skipping: %v; build them with hack/tools.sh", err)
	return ""
}

func checkTools(names []string) (string, error) {
	dir, err := Tools()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if _, err := ToolPath(dir, n); err != nil {
			return "", err
		}
	}
	for _, crds := range DefaultCRDs(dir) {
		if _, err := existingDir(crds, "CRD directory"); err != nil {
			return "", err
		}
	}
	return dir, nil
}
