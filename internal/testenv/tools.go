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

// ArgoEnv names the environment variable that selects the Argo release the
// harness runs: "v3" (or unset) for ArgoV3, "v4" for ArgoV4.
const ArgoEnv = "KFP_PLUGIN_ARGO"

// ArgoRelease is one Argo build of hack/tools.sh: the version its binaries
// report, their names in the tools directory and its CRD directory next to
// that directory.
type ArgoRelease struct {
	Name               string // "v3" or "v4", as $KFP_PLUGIN_ARGO names it
	Version            string
	WorkflowController string
	Argoexec           string
	CLI                string
	CRDs               string
	// FullCRDs is the directory, relative to CRDs' parent, of the CRDs with
	// full schemas (v4's release manifests default to them); "" when
	// hack/tools.sh does not build them.
	FullCRDs string
}

// The Argo releases hack/tools.sh builds. ArgoV3 is the default (what KFP
// 2.x bundles); ArgoV4 (KFP master's line; the module proxy serves v4.0.5
// only) is built on request: hack/tools.sh --only argo-v4.
var (
	ArgoV3 = ArgoRelease{Name: "v3", Version: "v3.7.18",
		WorkflowController: WorkflowController, Argoexec: Argoexec, CLI: ArgoCLI, CRDs: "argo-crds"}
	ArgoV4 = ArgoRelease{Name: "v4", Version: "v4.0.5",
		WorkflowController: "workflow-controller-v4", Argoexec: "argoexec-v4", CLI: "argo-cli-v4", CRDs: "argo-crds-v4",
		FullCRDs: "argo-crds-v4/full"}
)

// Binaries returns the release's binary names.
func (r ArgoRelease) Binaries() []string { return []string{r.WorkflowController, r.Argoexec, r.CLI} }

// ArgoFor returns the release named "v3" or "v4" ("" is the default, v3).
func ArgoFor(name string) (ArgoRelease, error) {
	switch name {
	case "", ArgoV3.Name:
		return ArgoV3, nil
	case ArgoV4.Name:
		return ArgoV4, nil
	}
	return ArgoRelease{}, fmt.Errorf("unknown Argo release %q (want %s or %s)", name, ArgoV3.Name, ArgoV4.Name)
}

// SelectedArgo returns the release $KFP_PLUGIN_ARGO selects (default v3).
func SelectedArgo() (ArgoRelease, error) {
	r, err := ArgoFor(os.Getenv(ArgoEnv))
	if err != nil {
		return r, fmt.Errorf("$%s: %w", ArgoEnv, err)
	}
	return r, nil
}

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
// tools directory: the default release's (v3) minimal Argo CRDs and our
// PodDefault stand-in.
func DefaultCRDs(toolsDir string) []string { return ArgoV3.DefaultCRDs(toolsDir) }

// DefaultCRDs returns the release's minimal Argo CRDs and our PodDefault
// stand-in, next to the tools directory.
func (r ArgoRelease) DefaultCRDs(toolsDir string) []string {
	base := filepath.Dir(toolsDir)
	return []string{filepath.Join(base, r.CRDs), filepath.Join(base, "kubeflow-crds")}
}

// ToolsRequired reports whether a missing tool must fail rather than skip.
func ToolsRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("KFP_PLUGIN_REQUIRE_TOOLS") == "1"
}

// RequireTools returns the tools directory after checking that the named
// binaries (and the default CRDs of the release $KFP_PLUGIN_ARGO selects)
// exist. When they do not, the test is skipped with a hint at hack/tools.sh,
// or failed under CI=true / KFP_PLUGIN_REQUIRE_TOOLS=1.
func RequireTools(t testing.TB, names ...string) string {
	t.Helper()
	argo, err := SelectedArgo()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := checkTools(argo, names)
	if err == nil {
		return dir
	}
	if ToolsRequired() {
		t.Fatalf("%v; build them with hack/tools.sh (not skipping: CI=true or KFP_PLUGIN_REQUIRE_TOOLS=1)", err)
	}
	t.Skipf("skipping: %v; build them with hack/tools.sh", err)
	return ""
}

// RequireArgo is RequireTools for etcd, kube-apiserver and all of the
// release's binaries and CRDs. A release that is not the selected one
// ($KFP_PLUGIN_ARGO) is optional: hack/tools.sh builds v4 only on request
// (--only argo-v4), so its absence skips even under CI=true /
// KFP_PLUGIN_REQUIRE_TOOLS=1 unless $KFP_PLUGIN_ARGO names it.
func RequireArgo(t testing.TB, r ArgoRelease) string {
	t.Helper()
	selected, err := SelectedArgo()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := checkTools(r, append([]string{Etcd, KubeAPIServer}, r.Binaries()...))
	if err == nil {
		return dir
	}
	if ToolsRequired() && selected == r {
		t.Fatalf("%v; build them with hack/tools.sh (not skipping: CI=true or KFP_PLUGIN_REQUIRE_TOOLS=1, and $%s=%s)",
			err, ArgoEnv, r.Name)
		return ""
	}
	if r == ArgoV3 {
		t.Skipf("skipping: %v; build them with hack/tools.sh", err)
	} else {
		t.Skipf("skipping: %v; build them with hack/tools.sh --only argo-%s", err, r.Name)
	}
	return ""
}

func checkTools(argo ArgoRelease, names []string) (string, error) {
	dir, err := Tools()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if _, err := ToolPath(dir, n); err != nil {
			return "", err
		}
	}
	for _, crds := range argo.DefaultCRDs(dir) {
		if _, err := existingDir(crds, "CRD directory"); err != nil {
			return "", err
		}
	}
	return dir, nil
}
