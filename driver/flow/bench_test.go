package flow_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// benchSpecFile: a producer with a parameter and an artifact output, and a
// consumer with three inputs (a pipeline input, the parameter, the
// artifact); cmd/bench drives the same spec over HTTP.
const benchSpecFile = "../testdata/bench/three_inputs.json"

// benchRun walks the producer half of benchSpec and returns the env, the
// pipeline, the root execution and a CONTAINER request for the consumer.
func benchRun(tb testing.TB) (*drivertest.Env, *driver.Request) {
	tb.Helper()
	p, err := drivertest.Load(benchSpecFile)
	if err != nil {
		tb.Fatal(err)
	}
	spec := p.Spec
	env := drivertest.NewEnv(tb)
	w := env.Walker(p, "bench")
	w.Params = map[string]any{"n": 7}
	trace, err := w.Run(context.Background(), p)
	if err != nil {
		tb.Fatal(err)
	}
	task := spec.GetRoot().GetDag().GetTasks()["consume"]
	req := w.Base
	req.Type, req.TaskName, req.DAGExecutionID = driver.Container, "consume", trace.RootID
	req.Task, req.Component = task, spec.GetComponents()["comp-consume"]
	req.Container = p.Executors["exec-consume"].GetContainer()
	return env, &req
}

// addSiblings records n more finished tasks under the root DAG, the worst
// case for a driver that lists a DAG's children.
func addSiblings(tb testing.TB, env *drivertest.Env, req *driver.Request, n int) {
	tb.Helper()
	ctx := context.Background()
	run, err := env.MLMD.RunOf(ctx, req.PipelineName, req.RunID, req.DAGExecutionID)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("filler-%d", i)
		_, _, err := env.MLMD.CreateExecution(ctx, run, mlmd.NewExecution{
			TypeName: mlmd.ContainerExecutionType, Name: mlmd.ExecutionName(req.RunID, req.DAGExecutionID, name, -1),
			State: pb.Execution_COMPLETE, Props: map[string]*pb.Value{
				mlmd.PropTaskName: mlmd.StringValue(name), mlmd.PropParentDAGID: mlmd.IntValue(req.DAGExecutionID),
			},
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func driverCalls(tb testing.TB, env *drivertest.Env) func() int64 {
	c, err := env.Pool.Get(mlmd.Endpoint{Host: env.Options.MLMDAddress, Port: env.Options.MLMDPort})
	if err != nil {
		tb.Fatal(err)
	}
	return c.Calls
}

// BenchmarkContainer3Inputs is one CONTAINER call resolving three inputs
// (pipeline input, upstream parameter, upstream artifact) against the MLMD
// test server over loopback gRPC, with 10 or 1,000 earlier tasks in the same
// DAG. Each iteration is a new task, so every call creates an execution.
func BenchmarkContainer3Inputs(b *testing.B) {
	for _, prior := range []int{10, 1000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			env, req := benchRun(b)
			addSiblings(b, env, req, prior)
			calls := driverCalls(b, env)
			if _, err := env.Service.Run(context.Background(), req); err != nil { // warm: types, run contexts
				b.Fatal(err)
			}
			durations := make([]time.Duration, 0, b.N)
			start := calls()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := *req
				r.TaskName = fmt.Sprintf("consume-%d", i)
				t0 := time.Now()
				res, err := env.Service.Run(context.Background(), &r)
				durations = append(durations, time.Since(t0))
				if err != nil || res.PodSpecPatch == "" {
					b.Fatal(res, err)
				}
			}
			b.StopTimer()
			sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
			b.ReportMetric(float64(durations[len(durations)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(calls()-start)/float64(b.N), "rpcs/op")
		})
	}
}
