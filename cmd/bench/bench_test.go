package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchMeasuresARealServe runs the whole tool, with small batches,
// against the sidecar built from this tree: every row is there, each call
// type's replies succeeded, and the figures are plausible.
func TestBenchMeasuresARealServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sidecar")
	}
	bin := filepath.Join(t.TempDir(), "kfp-driver-plugin")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tb, err := measure(context.Background(), options{binary: bin, specs: "../../driver/testdata", calls: 100, callers: 4, starts: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tb.print(&out, "test")
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []string{
		"Binary size", "Exec to /readyz", "ready and idle", "first call (ROOT_DAG)",
		"ROOT_DAG, 1 caller", "ROOT_DAG, 4 callers", "CONTAINER, 3 inputs, 1 caller", "CONTAINER, 3 inputs, 4 callers",
		"Sidecar CPU per call: CONTAINER", "DAG, ParallelFor over 100 items, 1 caller", "DAG, one ParallelFor iteration, 4 callers",
		"1,000 vs 10 earlier tasks", "peak RSS",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q", want)
		}
	}
	// A CONTAINER call of the three-input task makes 4 MLMD round trips
	// once warm (flow.TestRoundTrips counts them in process).
	for _, r := range tb.rows {
		if strings.HasPrefix(r.what, "CONTAINER, 3 inputs, 1 caller") && !strings.Contains(r.measured, "4.00 MLMD RPCs/call") {
			t.Errorf("CONTAINER row %q: want 4.00 MLMD RPCs per call", r.measured)
		}
	}
}
