package e2e

import (
	"context"
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/realnode"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// workflowsAtOnce is how many workflows run concurrently. A workflow
// mostly waits for Argo's one-second requeue and patch ticks, not for CPU,
// so the default -parallel (GOMAXPROCS: 2 in CI) would leave the machine
// idle; TestMain raises it unless -parallel was given.
const workflowsAtOnce = 6

// caseTimeout bounds one workflow run: a guard against hangs, not a speed
// check (the loop-heavy cases took up to 10 min with 6 workflows sharing 2
// cores).
const caseTimeout = 20 * time.Minute

func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(workflowsAtOnce))
	}
	os.Exit(m.Run())
}

// startStack starts one stack for the whole test, prints the phase
// timings, and stops it at the end, failing if any process is left.
func startStack(t testing.TB) *Stack {
	t.Helper()
	// Argo's binaries are those of the release $KFP_PLUGIN_ARGO selects (v3
	// unless it says v4); testenv.Start picks the same one.
	argo, err := testenv.SelectedArgo()
	if err != nil {
		t.Fatal(err)
	}
	tools := testenv.RequireTools(t, append([]string{testenv.Etcd, testenv.KubeAPIServer, testenv.Kubectl, testenv.Kubelet,
		testenv.ControllerManager, testenv.Scheduler, testenv.Weed}, argo.Binaries()...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{ToolsDir: tools, Out: testWriter{t}, Argo: argo.Name})
	if errors.Is(err, realnode.ErrHostUnsuitable) && !testenv.ToolsRequired() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process logs:\n%s\n%s", s.Cluster.LogTails(30), s.Node.LogTails(30))
		}
		start := time.Now()
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		s.Timings.Add("stop: pods deleted, node torn down, nothing left", time.Since(start))
		t.Logf("phases:\n%s", s.Timings)
		if d := caseFailures.String(); d != "" {
			t.Logf("failed cases:\n%s", d)
		}
	})
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
