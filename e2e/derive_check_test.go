package e2e

import (
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// TestDerivedWorkflowsDecode: the derived workflows are well-formed Argo
// workflows carrying what they were derived for (no cluster needed).
func TestDerivedWorkflowsDecode(t *testing.T) {
	dir := t.TempDir()
	for name, derive := range map[string]func(string) (string, error){
		"parallelfor_over_artifacts": deriveArtifactLoop, "limits_and_empty_dirs": deriveLimits,
	} {
		path, err := derive(dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wf, err := Compiled(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if wf.GenerateName == "" || len(wf.Spec.Templates) == 0 {
			t.Errorf("%s: no generateName or templates", name)
		}
		if name == "limits_and_empty_dirs" {
			checkLimitsDerived(t, wf)
		}
	}
}

func checkLimitsDerived(t *testing.T, wf *wfv1.Workflow) {
	t.Helper()
	var k8s, impl string
	for _, p := range wf.Spec.Arguments.Parameters {
		switch {
		case p.Name == "kubernetes-comp-echo":
			k8s = p.Value.String()
		case strings.HasPrefix(p.Name, "implementations-"):
			impl = p.Value.String()
		}
	}
	if k8s != mustJSON(limitsKubernetesConfig) {
		t.Errorf("kubernetes config = %s", k8s)
	}
	if impl == "" || strings.Contains(impl, "accelerator") || !strings.Contains(impl, `"resourceMemoryLimit":"256Mi"`) {
		t.Errorf("implementation = %s, want its limits without the GPU", impl)
	}
}
