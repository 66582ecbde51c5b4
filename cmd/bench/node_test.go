package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

const benchOutput = `goos: linux
BenchmarkPipelineWallTime/shipped/add_numbers/plugin-2         	       1	20100000000 ns/op	         2.000 driver-steps/run	        20.10 s/run	         1.500 s/driver-step
BenchmarkPipelineWallTime/shipped/add_numbers/driver-pods-2    	       1	22600000000 ns/op	         2.000 driver-steps/run	        22.60 s/run	         6.000 s/driver-step
    walltime_bench_test.go:99: run 1: wall 20.1s
BenchmarkContainerStepInProcess-2   	     100	   1200000 ns/op	         1.200 ms/container-step
BenchmarkContainerStepAsProcess-2   	      20	  78000000 ns/op	        78.00 ms/container-step
PASS
`

func TestNodeRowsCompareThePluginWithDriverPods(t *testing.T) {
	m := parseBenchOutput(benchOutput)
	if got := m["BenchmarkPipelineWallTime/shipped/add_numbers/driver-pods"]["s/run"]; got != 22.6 {
		t.Fatalf("driver pods s/run = %v, want 22.6 (parsed %v)", got, m)
	}
	file := t.TempDir() + "/node.txt"
	if err := writeFile(file, benchOutput); err != nil {
		t.Fatal(err)
	}
	tb := newTable()
	tb.containerCall = 2 * time.Millisecond
	if err := tb.nodeRows(file); err != nil {
		t.Fatal(err)
	}
	if len(tb.rows) != 4 {
		t.Fatalf("%d rows, want wall time, driver steps, the step cost and the process row: %+v", len(tb.rows), tb.rows)
	}
	wall := tb.rows[0]
	if !strings.Contains(wall.measured, "0.89x") || wall.met == nil || *wall.met {
		t.Errorf("shipped wall time row %+v: want 0.89x and the half target missed", wall)
	}
	if !strings.Contains(tb.rows[1].measured, "4.0x") {
		t.Errorf("driver step row %+v: want 6.00 / 1.50 = 4.0x", tb.rows[1])
	}
	if step := tb.rows[2]; !strings.Contains(step.measured, "3000x") || step.met == nil || !*step.met {
		t.Errorf("step cost row %+v: want 6 s / 2 ms = 3000x, the 100x target met", step)
	}
	if !strings.Contains(tb.rows[3].measured, "65x") {
		t.Errorf("process row %+v: want 78 / 1.2 = 65x", tb.rows[3])
	}
	if err := writeFile(file, "PASS\n"); err != nil {
		t.Fatal(err)
	}
	if err := newTable().nodeRows(file); err == nil {
		t.Error("a file without node results was accepted")
	}
}

func writeFile(name, text string) error { return os.WriteFile(name, []byte(text), 0o644) }
