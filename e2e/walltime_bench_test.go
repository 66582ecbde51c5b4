package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// The user's number: a KFP pipeline's wall time on the real node with the
// plugin against driver pods from our image (`drive`, as V2_DRIVER_IMAGE
// gives), under several workflow-controller settings, one workflow at a
// time. `make bench-node` runs it:
//
//	go test -run '^$' -bench PipelineWallTime -benchtime 2x -timeout 90m ./e2e
//
// Caching is off (as a run submitted with caching disabled), so repeated
// runs do the same work.

// argoSetting is one workflow-controller configuration.
type argoSetting struct {
	name string
	env  map[string]string
}

// argoSettings are compared: Argo's defaults (spelled out: the harness
// otherwise runs the controller at 1 s), what the manifests' component
// ships, and the suite's 1 s. Agent pods of plugin runs have the
// admission webhook's patch rate in all of them, as installed.
func argoSettings() ([]argoSetting, error) {
	shipped, err := ShippedArgoEnv()
	if err != nil {
		return nil, err
	}
	return []argoSetting{
		// The controller looks at a workflow again 10 s after an event.
		{name: "argo-defaults", env: map[string]string{"DEFAULT_REQUEUE_TIME": "10s"}},
		{name: "shipped", env: shipped},
		{name: "requeue-1s", env: map[string]string{"DEFAULT_REQUEUE_TIME": "1s"}},
	}, nil
}

// wallTimePipelines: one task, and three ParallelFor loops (one of them
// sequential) over a pipeline parameter.
var wallTimePipelines = []struct {
	name, file string
	params     map[string]any
}{
	{"add_numbers", "add_numbers.yaml", map[string]any{"a": 1, "b": 2}},
	{"parallelfor", "pipeline_with_parallelfor_pipeline_param.yaml",
		map[string]any{"loop_parameter": []any{"x", "y", "z"}, "prefix": "p"}},
}

// driverModes: how the driver steps run.
var driverModes = []struct {
	name       string
	driverPods bool
}{{"plugin", false}, {"driver-pods", true}}

func BenchmarkPipelineWallTime(b *testing.B) {
	settings, err := argoSettings()
	if err != nil {
		b.Fatal(err)
	}
	s := startStack(b)
	running := "" // the setting the controller runs with
	for _, set := range settings {
		for _, p := range wallTimePipelines {
			for _, m := range driverModes {
				b.Run(set.name+"/"+p.name+"/"+m.name, func(b *testing.B) {
					if running != set.name {
						ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
						defer cancel()
						if err := s.RestartArgo(ctx, set.env); err != nil {
							b.Fatal(err)
						}
						running = set.name
					}
					benchmarkRuns(b, s, p.file, p.params, m.driverPods)
				})
			}
		}
	}
}

// benchmarkRuns runs file once per iteration and reports, per run, the
// wall time, the driver steps and what they took, and the run's cost.
func benchmarkRuns(b *testing.B, s *Stack, file string, params map[string]any, driverPods bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	ns, prepare := "bench-plugin", s.PrepareNamespace
	if driverPods {
		ns, prepare = "bench-driver-pods", s.PrepareOptedOutNamespace
	}
	s.SetBehaviour(ns, Behaviour{})
	if err := prepare(ctx, ns); err != nil {
		b.Fatal(err)
	}
	var total runFigures
	runs := 0
	for b.Loop() {
		r, err := s.timedRun(ctx, ns, file, params, driverPods)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("run %d: %s%s", runs+1, r, r.timeline)
		total.add(r)
		runs++
	}
	total.report(b, runs)
}

// runFigures is what one run took.
type runFigures struct {
	wall        time.Duration // submit to Succeeded seen by a watch
	driverSteps int
	driverTime  time.Duration // the driver nodes' durations, as Argo recorded them
	cost        Cost
	timeline    string // each node's start and end after the workflow's creation
}

func (r runFigures) String() string {
	return fmt.Sprintf("wall %.1fs, %d driver steps taking %.1fs in all, controller CPU %s, machine CPU %.1fs, %.0f API writes (%.0f to workflows)",
		r.wall.Seconds(), r.driverSteps, r.driverTime.Seconds(), r.cost.ControllerCPU, r.cost.MachineCPU.Seconds(),
		r.cost.Writes(""), r.cost.Writes("workflows"))
}

func (r *runFigures) add(o runFigures) {
	r.wall += o.wall
	r.driverSteps += o.driverSteps
	r.driverTime += o.driverTime
	r.cost.ControllerCPU += o.cost.ControllerCPU
	r.cost.MachineCPU += o.cost.MachineCPU
	if r.cost.Requests == nil {
		r.cost.Requests = map[string]float64{}
	}
	for k, v := range o.cost.Requests {
		r.cost.Requests[k] += v
	}
}

func (r runFigures) report(b *testing.B, runs int) {
	if runs == 0 {
		return
	}
	n := float64(runs)
	b.ReportMetric(r.wall.Seconds()/n, "s/run")
	b.ReportMetric(float64(r.driverSteps)/n, "driver-steps/run")
	if r.driverSteps > 0 {
		b.ReportMetric(r.driverTime.Seconds()/float64(r.driverSteps), "s/driver-step")
	}
	b.ReportMetric(float64(r.cost.ControllerCPU.Milliseconds())/n, "controller-cpu-ms/run")
	b.ReportMetric(r.cost.MachineCPU.Seconds()/n, "machine-cpu-s/run")
	b.ReportMetric(r.cost.Writes("")/n, "api-writes/run")
	b.ReportMetric(r.cost.Writes("workflows")/n, "workflow-writes/run")
}

// timedRun submits one uncached run of file in ns (prepared) and waits for
// it to succeed.
func (s *Stack) timedRun(ctx context.Context, ns, file string, params map[string]any, driverPods bool) (runFigures, error) {
	var r runFigures
	wf, err := Compiled(file)
	if err != nil {
		return r, err
	}
	if err := WithoutCaching(wf); err != nil {
		return r, fmt.Errorf("%s: %w", file, err)
	}
	if driverPods {
		if err := WithDriverPods(wf); err != nil {
			return r, fmt.Errorf("%s: %w", file, err)
		}
	}
	if err := SetRuntimeParameters(wf, maps.Clone(params)); err != nil {
		return r, err
	}
	before, err := s.CostNow(ctx)
	if err != nil {
		return r, err
	}
	start := time.Now()
	created, err := s.Submit(ctx, ns, wf)
	if err != nil {
		return r, err
	}
	done, err := s.Wait(ctx, ns, created.Name)
	if err != nil {
		return r, err
	}
	r.wall = time.Since(start)
	after, err := s.CostNow(ctx)
	if err != nil {
		return r, err
	}
	r.cost = after.Since(before)
	if done.Status.Phase != wfv1.WorkflowSucceeded {
		return r, fmt.Errorf("workflow %s/%s: %s (%s)\n%s", ns, done.Name, done.Status.Phase, done.Status.Message, FailedNodes(done))
	}
	var timeline strings.Builder
	for _, n := range sortedNodes(done) {
		if isDriverNode(n) {
			r.driverSteps++
			r.driverTime += n.FinishedAt.Sub(n.StartedAt.Time)
		}
		if n.Type == wfv1.NodeTypePlugin || n.Type == wfv1.NodeTypePod {
			fmt.Fprintf(&timeline, "\n  %-40s %-6s %3.0fs -> %3.0fs", n.DisplayName, n.Type,
				n.StartedAt.Sub(done.CreationTimestamp.Time).Seconds(), n.FinishedAt.Sub(done.CreationTimestamp.Time).Seconds())
		}
	}
	r.timeline = timeline.String()
	return r, nil
}

// isDriverNode: a plugin node (converted), or a stock driver template's
// pod.
func isDriverNode(n wfv1.NodeStatus) bool {
	return n.Type == wfv1.NodeTypePlugin ||
		(n.Type == wfv1.NodeTypePod && strings.HasPrefix(n.TemplateName, "system-") && strings.HasSuffix(n.TemplateName, "-driver"))
}
