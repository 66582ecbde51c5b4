package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// timedSteps runs a pipeline's steps with serve's in-process driver and
// times its CONTAINER steps, or runs those through run instead.
type timedSteps struct {
	env   *drivertest.Env
	run   func(ctx context.Context, req *driver.Request) error // nil: in process
	took  time.Duration
	steps int
}

func (d *timedSteps) Run(ctx context.Context, req *driver.Request) (*driver.Result, error) {
	if req.Type != driver.Container {
		return d.env.Service.Run(ctx, req)
	}
	start := time.Now()
	if d.run != nil {
		if err := d.run(ctx, req); err != nil {
			return nil, err
		}
	}
	// In process, this call is the step; after a process, it reads back
	// the decision the process recorded (not timed).
	res, err := d.env.Service.Run(ctx, req)
	if d.run == nil {
		d.took += time.Since(start)
	}
	d.steps++
	return res, err
}

// benchmarkContainerSteps walks add_numbers b.N times, one run each, and
// reports the time per CONTAINER step.
func benchmarkContainerSteps(b *testing.B, d *timedSteps) {
	p, err := drivertest.Load(filepath.Join("driver", "testdata", "pipelines", "add_numbers.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		w := d.env.Walker(p, fmt.Sprintf("bench-%s-%d", b.Name(), i))
		w.Driver = d
		if _, err := w.Run(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.took.Microseconds())/float64(d.steps)/1000, "ms/container-step")
}

// BenchmarkContainerStepInProcess is the sidecar's cost of a CONTAINER
// step without HTTP: the driver alone.
func BenchmarkContainerStepInProcess(b *testing.B) {
	benchmarkContainerSteps(b, &timedSteps{env: drivertest.NewEnv(b)})
}

// BenchmarkContainerStepAsProcess is the same step as `drive` in its own
// process (what a driver pod runs, without the pod): exec, start-up,
// connections, the step, the output files.
func BenchmarkContainerStepAsProcess(b *testing.B) {
	bin := builtBinary(b)
	d := &timedSteps{env: drivertest.NewEnv(b)}
	d.run = func(ctx context.Context, req *driver.Request) error {
		argv, _, err := plugintest.CommandLine(req, b.TempDir())
		if err != nil {
			return err
		}
		start := time.Now()
		out, err := exec.CommandContext(ctx, bin, append([]string{"drive"}, argv...)...).CombinedOutput()
		d.took += time.Since(start)
		if err != nil {
			return fmt.Errorf("drive: %v\n%s", err, out)
		}
		return nil
	}
	benchmarkContainerSteps(b, d)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// builtBinary builds the plugin the way the Makefile does, once per run.
func builtBinary(b *testing.B) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kfp-driver-plugin-bench")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kfp-driver-plugin")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return binPath
}
