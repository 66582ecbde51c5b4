package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// tcase is one corpus workflow run end to end.
type tcase struct {
	file   string         // in the corpus
	covers string         // the features it exercises
	params map[string]any // pipeline parameters (the run's runtime config)
	b      Behaviour      // what its user code does
	checks []check
	phase  wfv1.WorkflowPhase // expected; "" means Succeeded
	// secrets and claims the user creates in the namespace before the run
	// (kfp-kubernetes mounts them by name).
	secrets, claims []string
	// pending: the run is expected to stay Pending on an executor pod the
	// scheduler cannot place; argo get must show this reason. The run is
	// then stopped.
	pending string
	// viaConvert: the namespace opts out of the webhook and the workflow
	// goes through the `convert` command (installs without the webhook).
	viaConvert bool
	// driverPods: the namespace opts out of the webhook and the stock
	// workflow runs a driver pod per step from our image (`drive`).
	driverPods bool
}

func (c tcase) name() string { return strings.TrimSuffix(c.file, ".yaml") }

// TestEndToEnd runs everything on one stack, workflowsAtOnce workflows at
// a time, each case in its own namespace: the corpus cases, then the
// observation and failure cases.
//
// On Argo v4 ($KFP_PLUGIN_ARGO=v4) the stack runs KFP master's native line
// instead: the native cases (native_test.go) only.
func TestEndToEnd(t *testing.T) {
	s := startStack(t)
	start := time.Now()
	if s.Native {
		t.Run("cases", func(t *testing.T) { runNativeCases(t, s) })
		s.Timings.Add(fmt.Sprintf("%d native cases on Argo %s (%s workflows at a time), %d ran user code for real", casesRun.Load(),
			s.Cluster.Argo.Version, flag.Lookup("test.parallel").Value, ranUserCases.Load()), time.Since(start))
		return
	}
	t.Run("cases", func(t *testing.T) {
		for _, c := range corpusCases {
			if failsOnRealPods[c.file] != "" && os.Getenv("E2E_ALL") == "" {
				continue
			}
			parallel(t, "corpus/"+c.name(), func(t *testing.T) { runCase(t, s, NamespaceFor(c.name()), c) })
		}
		parallel(t, "observe/driver-error-in-argo-get", func(t *testing.T) { testDriverErrorInArgoGet(t, s) })
		parallel(t, "observe/sidecar-in-agent-pod", func(t *testing.T) { testSidecarInAgentPod(t, s) })
		parallel(t, "observe/argo-logs-shows-plugin-lines", func(t *testing.T) { testArgoLogs(t, s) })
		parallel(t, "install/standalone-kfp-namespace", func(t *testing.T) {
			// The KFP namespace as overlays/standalone sets it up: runs as
			// pipeline-runner, with only the install's permissions.
			runCase(t, s, kfpNamespace, tcase{file: "add_numbers.yaml", params: map[string]any{"a": 1, "b": 2},
				checks: []check{param("add-numbers", "a", 1), param("add-numbers", "b", 2), serviceAccount(StandaloneSA)}})
		})
		parallel(t, "install/convert-without-webhook", func(t *testing.T) {
			runCase(t, s, "convert-without-webhook", tcase{file: "producer_consumer_param_pipeline.yaml", viaConvert: true,
				checks: []check{ranUserCode("producer", "consumer"),
					param("consumer", "input_value", "Hello world, this is an output parameter\n")}})
		})
		parallel(t, "install/driver-pods-with-drive", func(t *testing.T) {
			runCase(t, s, "driver-pods-with-drive", tcase{file: "producer_consumer_param_pipeline.yaml", driverPods: true,
				checks: []check{ranUserCode("producer", "consumer"),
					param("consumer", "input_value", "Hello world, this is an output parameter\n")}})
		})
		parallel(t, "objectstore/namespace-keys-isolated", func(t *testing.T) { testNamespaceKeysIsolated(t, s) })
		parallel(t, "derived/parallelfor_over_artifacts", func(t *testing.T) { testArtifactLoop(t, s) })
		parallel(t, "derived/limits_and_empty_dirs", func(t *testing.T) {
			c, err := limitsCase(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			runCase(t, s, "derived-limits-and-empty-dirs", c)
		})
		parallel(t, "cache/parameter_cache", func(t *testing.T) { testCacheHit(t, s, "parameter_cache.yaml", "core-comp", "crust-comp") })
		parallel(t, "cache/artifact_cache", func(t *testing.T) { testCacheHit(t, s, "artifact_cache.yaml", "core-comp", "crust-comp") })
		runSweep(t, s)
	})
	// The webhook's failure modes touch the KFP namespace's webhook for
	// everyone: after the parallel cases.
	t.Run("webhook/opt-out-stored-unchanged", func(t *testing.T) { testWebhookOptOut(t, s) })
	t.Run("webhook/down-stored-unchanged", func(t *testing.T) { testWebhookDown(t, s) })
	s.Timings.Add(fmt.Sprintf("%d cases (%s workflows at a time), %d ran user code for real", casesRun.Load(),
		flag.Lookup("test.parallel").Value, ranUserCases.Load()), time.Since(start))
}

// ranUserCases counts the cases in which some task's user command ran for
// real (the rest published their Behaviour's outputs: Python components).
var ranUserCases atomic.Int32

// failsOnRealPods are default cases that real pods showed to be broken,
// with why; they run with E2E_ALL=1 until fixed.
var failsOnRealPods = map[string]string{}

// caseFailures repeats why each case failed at the very end of the
// suite's output: CI keeps only the head and tail of a long log.
var caseFailures failureDigest

// casesRun counts the cases that ran (-run may pick a few), for the timings.
var casesRun atomic.Int32

func parallel(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		casesRun.Add(1)
		f(t)
	})
}

// runCase runs c in namespace ns, expects its phase and applies its checks.
func runCase(t *testing.T, s *Stack, ns string, c tcase) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	s.SetBehaviour(ns, c.b)
	prepare := s.PrepareNamespace
	if c.viaConvert || c.driverPods {
		prepare = s.PrepareOptedOutNamespace
	}
	if err := prepare(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := s.createSecrets(ctx, ns, c.secrets); err != nil {
		t.Fatal(err)
	}
	if err := s.createClaims(ctx, ns, c.claims); err != nil {
		t.Fatal(err)
	}
	if c.pending != "" {
		testPending(ctx, t, s, ns, c)
		return nil
	}
	run, checks := s.Run, append([]check{convertedByWebhook()}, c.checks...)
	if s.Native {
		run, checks = s.runNativeCase(c), append(checks, nativeRecorded())
	}
	if c.viaConvert {
		run, checks = s.RunConverted, append([]check{notConvertedByWebhook()}, c.checks...)
	}
	if c.driverPods {
		run, checks = s.RunWithDriverPods, append([]check{notConvertedByWebhook(), driverPodsRanDrive()}, c.checks...)
	}
	wf, err := run(ctx, ns, c.file, c.params)
	if err != nil {
		t.Fatal(err)
	}
	want := c.phase
	if want == "" {
		want = wfv1.WorkflowSucceeded
	}
	if wf.Status.Phase != want {
		// The failed nodes first: CI keeps only the head and tail of a
		// long failure.
		out, _ := s.ArgoCLI(ctx, "get", wf.Name, "-n", ns)
		why := fmt.Sprintf("workflow %s: %s (%s), want %s\n%s%s", wf.Name, wf.Status.Phase, wf.Status.Message, want,
			FailedNodes(wf), s.FailedPodLogs(ctx, wf))
		caseFailures.add(t.Name(), why)
		t.Fatalf("%s\n%s", why, stepTree(out))
	}
	r, err := s.Result(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	checked := true
	for _, ch := range checks {
		if err := ch(r); err != nil {
			t.Error(err)
			checked = false
		}
	}
	if !checked {
		out, _ := s.ArgoCLI(ctx, "get", wf.Name, "-n", ns)
		t.Logf("argo get %s:\n%s", wf.Name, stepTree(out))
	}
	for _, k := range s.KnownFailures(ns) {
		t.Logf("user code failed as it would on KFP: %s", k)
	}
	if len(r.RanUserCode) > 0 {
		t.Logf("user code ran for real: %v", r.RanUserCode)
		ranUserCases.Add(1)
	}
	return r
}

// testArtifactLoop runs the derived ParallelFor over artifacts (see
// deriveArtifactLoop): each iteration's task gets one of the artifacts the
// first loop wrote.
func testArtifactLoop(t *testing.T, s *Stack) {
	path, err := deriveArtifactLoop(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runCase(t, s, "derived-parallelfor-over-artifacts", tcase{file: path, checks: []check{
		ran("write-artifact", 3), ran("print-artifact", 3), artifactCount("print-artifact", "a", 1),
		artifactPerRun("print-artifact", "a", "write-artifact", "out"),
		artifactFrom("read-and-join", "artifacts", "write-artifact", "out"),
	}})
}

// testPending submits c and waits until `argo get` shows its executor pod
// Pending with the scheduler's reason c.pending (the node lacks what the
// task asks for), checks the pod carries the kfp-kubernetes toleration the
// driver put in its patch, then stops the run.
func testPending(ctx context.Context, t *testing.T, s *Stack, ns string, c tcase) {
	wf := submit(ctx, t, s, ns, c.file)
	var out string
	err := poll(ctx, "argo get to show "+c.pending, func() (bool, error) {
		var err error
		out, err = s.ArgoCLI(ctx, "get", wf.Name, "-n", ns)
		return strings.Contains(out, c.pending), err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("argo get %s:\n%s", wf.Name, out)
	done, err := s.Workflows.ArgoprojV1alpha1().Workflows(ns).Get(ctx, wf.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pod("verify-gpu-scheduled", hasToleration("nvidia.com/gpu"))(mustResult(ctx, t, s, done)); err != nil {
		t.Error(err)
	}
	if _, err := s.ArgoCLI(ctx, "stop", wf.Name, "-n", ns); err != nil {
		t.Error(err)
	}
}

func mustResult(ctx context.Context, t *testing.T, s *Stack, wf *wfv1.Workflow) *Result {
	t.Helper()
	r, err := s.Result(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
