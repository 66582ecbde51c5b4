package e2e

import (
	"context"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// tcase is one corpus workflow run end to end.
type tcase struct {
	file   string         // in the corpus
	covers string         // the features it exercises
	params map[string]any // pipeline parameters (the run's runtime config)
	b      Behaviour      // what its user code does
	checks []check
	phase  wfv1.WorkflowPhase // expected; "" means Succeeded
}

func (c tcase) name() string { return strings.TrimSuffix(c.file, ".yaml") }

// TestEndToEnd runs everything on one stack: the corpus cases (each in its
// own namespace, several at once), then the observation and failure
// cases.
func TestEndToEnd(t *testing.T) {
	s := startStack(t)
	t.Run("corpus", func(t *testing.T) {
		for _, c := range corpusCases {
			t.Run(c.name(), func(t *testing.T) {
				t.Parallel()
				runCase(t, s, NamespaceFor(c.name()), c)
			})
		}
	})
}

// runCase runs c in namespace ns, expects its phase and applies its checks.
func runCase(t *testing.T, s *Stack, ns string, c tcase) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	s.SetBehaviour(ns, c.b)
	wf, err := s.Run(ctx, ns, c.file, c.params)
	if err != nil {
		t.Fatal(err)
	}
	want := c.phase
	if want == "" {
		want = wfv1.WorkflowSucceeded
	}
	if wf.Status.Phase != want {
		out, _ := s.ArgoCLI(ctx, "get", wf.Name, "-n", ns)
		t.Fatalf("workflow %s: %s (%s), want %s\n%s\nstand-in errors: %v", wf.Name, wf.Status.Phase, wf.Status.Message, want, out, s.StandInErrors())
	}
	r, err := s.Result(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range c.checks {
		if err := ch(r); err != nil {
			t.Error(err)
		}
	}
	return r
}
