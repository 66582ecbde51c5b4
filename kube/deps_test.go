package kube_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoClientset guards the reason this package exists: neither it nor the
// plugin binary may link client-go's generated clientset or its scheme,
// whose init alone costs the sidecar ~20 MiB of resident memory.
func TestNoClientset(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	for _, pkg := range []string{".", ".."} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "k8s.io/client-go/kubernetes" || strings.HasPrefix(dep, "k8s.io/client-go/kubernetes/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
