package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/loopback"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// namespace is the sidecar's and every call's namespace.
const namespace = "kubeflow-user"

// loopItems is the length of the list the ParallelFor iterates over.
const loopItems = 100

// maker builds the request bodies of each measured call type against one
// sidecar. Setup (the producer half of a run, the loop DAGs an iteration
// hangs under) goes through the sidecar too, unmeasured; measured bodies
// are encoded before the clock starts, so the load generator's own work is
// only the HTTP exchange.
type maker struct {
	opts     driver.Options
	mlmd     *mlmd.Client
	launcher *drivertest.Launcher
	drv      driver.Driver
	three    *drivertest.Pipeline // driver/testdata/bench/three_inputs.json
	loops    *drivertest.Pipeline // pipeline_with_loops.yaml
	runs     int
}

func newMaker(svc *loopback.Services, sc *loopback.Sidecar, specs string, pools *pools) (*maker, error) {
	three, err := drivertest.Load(specs + "/bench/three_inputs.json")
	if err != nil {
		return nil, err
	}
	loops, err := drivertest.Load(specs + "/pipelines/pipeline_with_loops.yaml")
	if err != nil {
		return nil, err
	}
	mhost, mport, _ := net.SplitHostPort(svc.MLMD.Addr)
	phost, pport, _ := net.SplitHostPort(svc.TaskAddr)
	client, err := pools.mlmd.Get(mlmd.Endpoint{Host: mhost, Port: mport})
	if err != nil {
		return nil, err
	}
	tasks, err := pools.tasks.Client(mlpipeline.Options{Address: svc.TaskAddr})
	if err != nil {
		return nil, err
	}
	fw := &loopback.Forwarder{URL: sc.URL, Client: &http.Client{Timeout: time.Minute}}
	return &maker{
		opts:     driver.Options{MLMDAddress: mhost, MLMDPort: mport, MLPipelineAddress: phost, MLPipelinePort: pport},
		mlmd:     client,
		launcher: &drivertest.Launcher{MLMD: client, Cache: cache.New(tasks), Namespace: namespace},
		drv:      &plugintest.HTTPDriver{Handler: fw, Token: sc.Token, Timeout: time.Minute},
		three:    three, loops: loops,
	}, nil
}

// pools are the clients the maker's set-up uses; closed at the end.
type pools struct {
	mlmd  *mlmd.Pool
	tasks mlpipeline.Pool
}

func (p *pools) close() { p.mlmd.Close(); p.tasks.Close() }

func (m *maker) base(p *drivertest.Pipeline, runID string) driver.Request {
	return driver.Request{Namespace: namespace, PipelineName: p.Spec.GetPipelineInfo().GetName(), RunID: runID,
		RunName: "wf-" + runID, WorkflowName: "wf-" + runID, WorkflowUID: runID,
		PipelineJobCreateTime: "2026-01-02T03:04:05Z", IterationIndex: -1, Options: m.opts}
}

func (m *maker) newRunID(kind string) string {
	m.runs++
	return fmt.Sprintf("bench-%s-%d-%d", kind, time.Now().UnixNano(), m.runs)
}

// rootDAGs are n ROOT_DAG calls of add-numbers-like runs, each a new run.
func (m *maker) rootDAGs(n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for range n {
		req := m.base(m.three, m.newRunID("root"))
		req.Type, req.Component = driver.RootDAG, m.three.Spec.GetRoot()
		req.RuntimeConfig = runtimeConfig(map[string]*structpb.Value{"n": structpb.NewNumberValue(7)})
		b, err := plugintest.Body(&req)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// containers are n CONTAINER calls of the three-input consumer, each a new
// task of one run whose producer already ran and whose root DAG holds
// prior more finished tasks.
func (m *maker) containers(ctx context.Context, n, prior int) ([][]byte, error) {
	w := &drivertest.Walker{Driver: m.drv, Launcher: m.launcher, MLMD: m.mlmd,
		Base: m.base(m.three, m.newRunID("container")), Params: map[string]any{"n": 7}}
	trace, err := w.Run(ctx, m.three)
	if err != nil {
		return nil, fmt.Errorf("walking the producer: %w", err)
	}
	if err := m.fill(ctx, &w.Base, trace.RootID, prior); err != nil {
		return nil, err
	}
	spec := m.three.Spec
	out := make([][]byte, 0, n)
	for i := range n {
		req := w.Base
		req.Type, req.TaskName, req.DAGExecutionID = driver.Container, fmt.Sprintf("consume-%d", i), trace.RootID
		req.Task, req.Component = spec.GetRoot().GetDag().GetTasks()["consume"], spec.GetComponents()["comp-consume"]
		req.Container = m.three.Executors["exec-consume"].GetContainer()
		b, err := plugintest.Body(&req)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// fill records n finished sibling tasks under the DAG, as a long run has.
func (m *maker) fill(ctx context.Context, base *driver.Request, dagID int64, n int) error {
	run, err := m.mlmd.RunOf(ctx, base.PipelineName, base.RunID, dagID)
	if err != nil {
		return err
	}
	for i := range n {
		name := fmt.Sprintf("filler-%d", i)
		_, _, err := m.mlmd.CreateExecution(ctx, run, mlmd.NewExecution{
			TypeName: mlmd.ContainerExecutionType, Name: mlmd.ExecutionName(base.RunID, dagID, name, -1),
			State: pb.Execution_COMPLETE, Props: map[string]*pb.Value{
				mlmd.PropTaskName: mlmd.StringValue(name), mlmd.PropParentDAGID: mlmd.IntValue(dagID),
			},
		})
		if err != nil {
			return fmt.Errorf("recording filler task %d: %w", i, err)
		}
	}
	return nil
}

// loopRun starts a pipeline_with_loops run whose loop_parameter has
// loopItems items and returns its base request and root execution.
func (m *maker) loopRun(ctx context.Context) (driver.Request, int64, error) {
	base := m.base(m.loops, m.newRunID("loop"))
	req := base
	req.Type, req.Component = driver.RootDAG, m.loops.Spec.GetRoot()
	items := make([]any, loopItems)
	for i := range items {
		items[i] = fmt.Sprintf("item-%d", i)
	}
	list, err := structpb.NewList(items)
	if err != nil {
		return base, 0, err
	}
	req.RuntimeConfig = runtimeConfig(map[string]*structpb.Value{"loop_parameter": structpb.NewListValue(list)})
	res, err := m.drv.Run(ctx, &req)
	if err != nil {
		return base, 0, fmt.Errorf("ROOT_DAG of the loop run: %w", err)
	}
	return base, res.ExecutionID, nil
}

// loopDAG is the DAG request of the run's ParallelFor task under root,
// named name so that each call records a loop of its own.
func (m *maker) loopDAG(base driver.Request, rootID int64, name string) driver.Request {
	spec := m.loops.Spec
	req := base
	req.Type, req.TaskName, req.DAGExecutionID = driver.DAG, name, rootID
	req.Task, req.Component = spec.GetRoot().GetDag().GetTasks()["for-loop-1"], spec.GetComponents()["comp-for-loop-1"]
	return req
}

// loops are n DAG calls, each expanding a ParallelFor over loopItems
// items (a new loop task of one run).
func (m *maker) loopDAGs(ctx context.Context, n int) ([][]byte, error) {
	base, rootID, err := m.loopRun(ctx)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	for i := range n {
		req := m.loopDAG(base, rootID, fmt.Sprintf("for-loop-1-%d", i))
		b, err := plugintest.Body(&req)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// iterations are n DAG calls of single ParallelFor iterations, spread over
// as many loops (expanded here, unmeasured) as n needs.
func (m *maker) iterations(ctx context.Context, n int) ([][]byte, error) {
	base, rootID, err := m.loopRun(ctx)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	for l := 0; len(out) < n; l++ {
		req := m.loopDAG(base, rootID, fmt.Sprintf("iterated-loop-%d", l))
		res, err := m.drv.Run(ctx, &req)
		if err != nil {
			return nil, fmt.Errorf("expanding loop %d: %w", l, err)
		}
		if res.IterationCount == nil || *res.IterationCount != loopItems {
			return nil, fmt.Errorf("loop %d expanded to %v iterations, want %d", l, res.IterationCount, loopItems)
		}
		for i := 0; i < loopItems && len(out) < n; i++ {
			it := req
			it.DAGExecutionID, it.IterationIndex = res.ExecutionID, i
			b, err := plugintest.Body(&it)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

func runtimeConfig(params map[string]*structpb.Value) *pipelinespec.PipelineJob_RuntimeConfig {
	return &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: params}
}
