package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// recordingTB captures Skip/Fatal instead of ending the test.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Skipf(format string, a ...any)  { r.skipped = format }
func (r *recordingTB) Fatalf(format string, a ...any) { r.failed = format }

func TestRequireToolsSkipsUnlessCI(t *testing.T) {
	t.Setenv(ToolsEnv, t.TempDir()) // exists, but holds no binaries
	for _, tc := range []struct {
		ci, require string
		wantFail    bool
	}{
		{"", "", false},
		{"false", "0", false},
		{"true", "", true},
		{"", "1", true},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv("KFP_PLUGIN_REQUIRE_TOOLS", tc.require)
		r := &recordingTB{TB: t}
		RequireTools(r, Etcd)
		if tc.wantFail && r.failed == "" {
			t.Errorf("CI=%q REQUIRE=%q: want Fatal, got skip %q", tc.ci, tc.require, r.skipped)
		}
		if !tc.wantFail && (r.skipped == "" || r.failed != "") {
			t.Errorf("CI=%q REQUIRE=%q: want Skip, got fatal %q", tc.ci, tc.require, r.failed)
		}
		if !tc.wantFail && !strings.Contains(r.skipped, "hack/tools.sh") {
			t.Errorf("skip message %q does not name hack/tools.sh", r.skipped)
		}
	}
}

// TestToolVersions checks that every built binary runs and reports the pinned
// version: catches a stale cache or a build without version ldflags.
func TestToolVersions(t *testing.T) {
	dir := RequireTools(t, Etcd, KubeAPIServer, Kubectl, WorkflowController, Argoexec, ArgoCLI)
	for _, tc := range []struct {
		tool string
		args []string
		want string
	}{
		{Etcd, []string{"--version"}, "3.6.16"},
		{KubeAPIServer, []string{"--version"}, "v1.34.10"},
		{Kubectl, []string{"version", "--client"}, "v1.34.10"},
		{WorkflowController, []string{"version"}, "v3.7.18"},
		{Argoexec, []string{"version"}, "v3.7.18"},
		{ArgoCLI, []string{"version", "--short"}, "v3.7.18"},
	} {
		bin, _ := ToolPath(dir, tc.tool)
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s %v = %q, %v; want %s", tc.tool, tc.args, out, err, tc.want)
		}
	}
}

func TestArgoReleaseSelection(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want ArgoRelease
		err  bool
	}{
		{"", ArgoV3, false},
		{"v3", ArgoV3, false},
		{"v4", ArgoV4, false},
		{"v4.1.2", ArgoRelease{}, true},
	} {
		t.Setenv(ArgoEnv, tc.env)
		got, err := SelectedArgo()
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s=%q: SelectedArgo = %+v, %v", ArgoEnv, tc.env, got, err)
		}
	}
	if got := ArgoV4.DefaultCRDs("/cache/bin"); got[0] != "/cache/argo-crds-v4" || got[1] != "/cache/kubeflow-crds" {
		t.Errorf("v4 CRDs = %v", got)
	}
	if got := DefaultCRDs("/cache/bin"); got[0] != "/cache/argo-crds" {
		t.Errorf("default CRDs = %v, want v3's", got)
	}
}

// TestRequireArgoV4IsOptional: hack/tools.sh builds v4 only on request, so
// its absence skips even under KFP_PLUGIN_REQUIRE_TOOLS=1 unless
// KFP_PLUGIN_ARGO=v4 asks for it.
func TestRequireArgoV4IsOptional(t *testing.T) {
	t.Setenv(ToolsEnv, t.TempDir()) // exists, but holds no binaries
	t.Setenv("CI", "")
	for _, tc := range []struct {
		require, argo string
		wantFail      bool
	}{
		{"", "", false},
		{"1", "", false},
		{"1", "v3", false},
		{"", "v4", false},
		{"1", "v4", true},
	} {
		t.Setenv("KFP_PLUGIN_REQUIRE_TOOLS", tc.require)
		t.Setenv(ArgoEnv, tc.argo)
		r := &recordingTB{TB: t}
		RequireArgo(r, ArgoV4)
		if tc.wantFail != (r.failed != "") || tc.wantFail == (r.skipped != "") {
			t.Errorf("REQUIRE=%q ARGO=%q: skipped %q, failed %q; want fail %v", tc.require, tc.argo, r.skipped, r.failed, tc.wantFail)
		}
		if r.skipped != "" && !strings.Contains(r.skipped, "hack/tools.sh --only argo-") {
			t.Errorf("skip message %q does not name hack/tools.sh --only argo-<release>", r.skipped)
		}
	}
}
