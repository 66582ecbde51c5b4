package testenv

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestClusterServesObjectsAndCRDs(t *testing.T) {
	c := StartCluster(t)
	ctx := testContext(t)

	v, err := c.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.GitVersion != "v1.34.10" {
		t.Errorf("apiserver version = %q, want v1.34.10 (ldflags in hack/tools.sh)", v.GitVersion)
	}

	if err := c.EnsureNamespace(ctx, "team-a"); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "team-a"},
		Data: map[string]string{"k": "v"}}
	if _, err := c.Client.CoreV1().ConfigMaps("team-a").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create config map: %v", err)
	}
	got, err := c.Client.CoreV1().ConfigMaps("team-a").Get(ctx, "cfg", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("get config map = %v, %v", got, err)
	}

	for _, name := range []string{
		"workflows.argoproj.io", "workflowtemplates.argoproj.io", "workflowtasksets.argoproj.io",
		"workflowtaskresults.argoproj.io", "cronworkflows.argoproj.io", "poddefaults.kubeflow.org",
	} {
		ok, err := c.CRDEstablished(ctx, name)
		if !ok || err != nil {
			t.Errorf("CRD %s established = %v, %v", name, ok, err)
		}
	}
}

func TestKubectlAgainstCluster(t *testing.T) {
	RequireTools(t, Kubectl)
	c := StartCluster(t)
	ctx := testContext(t)

	out, err := c.Kubectl(ctx, "kustomize", DefaultCRDs(c.ToolsDir)[0])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "kind: CustomResourceDefinition"); n != 8 {
		t.Errorf("kubectl kustomize of Argo minimal CRDs: %d CRDs, want 8", n)
	}
	// A custom resource of our PodDefault stand-in round-trips.
	pd := "apiVersion: kubeflow.org/v1alpha1\nkind: PodDefault\nmetadata: {name: pd, namespace: default}\n" +
		"spec: {selector: {matchLabels: {a: b}}, desc: x}\n"
	path := t.TempDir() + "/pd.yaml"
	if err := os.WriteFile(path, []byte(pd), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kubectl(ctx, "apply", "-f", path); err != nil {
		t.Fatal(err)
	}
	out, err = c.Kubectl(ctx, "get", "poddefaults", "pd", "-o", "jsonpath={.spec.desc}")
	if err != nil || string(out) != "x" {
		t.Errorf("get poddefault = %q, %v", out, err)
	}
}

func TestArgoControllerRunsAndStopCleansUp(t *testing.T) {
	c := StartCluster(t)
	a := c.StartArgoController(t, "argo", map[string]string{"ARGO_AGENT_PATCH_RATE": "1s"})

	if exited, err := a.Exited(); exited {
		t.Fatalf("controller exited: %v\n%s", err, a.Tail(20))
	}
	for _, line := range []string{"Starting Workflow Controller", "executorPlugins=true", "defaultRequeueTime=1s"} {
		if !a.LogContains(line) {
			t.Errorf("controller log lacks %q:\n%s", line, a.Tail(20))
		}
	}
	procs := c.Processes()
	if len(procs) != 3 {
		t.Fatalf("started %d processes, want 3 (etcd, kube-apiserver, workflow-controller)", len(procs))
	}

	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, p := range procs {
		// Signal 0 to the group: ESRCH means no member is left.
		if err := syscall.Kill(-p.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pgid %d) still has processes after Stop: %v", p.Name, p.Pid(), err)
		}
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) && os.Getenv("KFP_TESTENV_KEEP") == "" {
		t.Errorf("cluster dir %s not removed: %v", c.Dir, err)
	}
}

func TestStartFailureReportsLogAndKillsEverything(t *testing.T) {
	tools := RequireTools(t, Etcd, KubeAPIServer)
	dir := t.TempDir()
	_, err := Start(testContext(t), Options{ToolsDir: tools, Dir: dir, APIServerFlags: []string{"--no-such-flag"}})
	if err == nil {
		t.Fatal("Start with a bad apiserver flag succeeded")
	}
	if !strings.Contains(err.Error(), "kube-apiserver exited early") || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("error lacks the apiserver exit and its log tail:\n%v", err)
	}
	t.Logf("expected error: %v", err)
	if pids := processesMentioning(t, dir); len(pids) > 0 {
		t.Errorf("processes still running with %s on their command line: %v", dir, pids)
	}
}

// processesMentioning scans /proc for command lines containing s.
func processesMentioning(t *testing.T, s string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), s) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
