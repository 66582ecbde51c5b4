package flow_test

import (
	"context"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube/kubetest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
)

// nativeEnv is a driver on the native line against the API test server,
// with a run of p stored there.
func nativeEnv(t testing.TB, p *drivertest.Pipeline, runID string) (*flow.Service, *kfpapitest.Server) {
	t.Helper()
	srv := kfpapitest.Start(t, kfpapitest.Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	b, err := protojson.Marshal(p.Spec)
	if err != nil {
		t.Fatal(err)
	}
	spec := &structpb.Struct{}
	if err := protojson.Unmarshal(b, spec); err != nil {
		t.Fatal(err)
	}
	srv.AddRun(drivertest.Namespace, &pb.Run{RunId: runID, DisplayName: "run", PipelineSource: &pb.Run_PipelineSpec{PipelineSpec: spec}})
	tasks := &mlpipeline.Pool{}
	t.Cleanup(func() { _ = tasks.Close() })
	svc := flow.New(flow.Deps{Tasks: tasks, Kube: kubetest.New(),
		Endpoints: driver.Endpoints{MLMDHost: "unused", MLMDPort: "1", MLPipelineHost: host, MLPipelinePort: port}})
	return svc, srv
}

func nativeReq(typ driver.Type, runID, parent, task string) *driver.Request {
	return &driver.Request{Type: typ, Line: driver.LineNative, PipelineName: "add-numbers", RunID: runID, RunName: "wf",
		Namespace: drivertest.Namespace, ParentTaskID: parent, TaskName: task, IterationIndex: -1,
		Options: driver.Options{MLPipelineAddress: "ml-pipeline", MLPipelinePort: "8887", PublishLogs: "false", LogLevel: "1"}}
}

// TestNativeContainerStep: on the native line a CONTAINER call finds its
// specs in the run's stored pipeline spec, creates its task once (a repeat
// answers the same task and patch), records its inputs and tells the
// launcher its task.
func TestNativeContainerStep(t *testing.T) {
	p := load(t, "add_numbers.yaml")
	svc, srv := nativeEnv(t, p, "run-native")
	ctx := context.Background()
	root := nativeReq(driver.RootDAG, "run-native", "", "")
	root.RuntimeConfig = rootConfig(t, p, map[string]any{"a": 1.0, "b": 2.0})
	res, err := svc.Run(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if res.TaskID == "" || res.Outputs(driver.RootDAG)[driver.OutputParentTaskID] != res.TaskID || res.ExecutionID != 0 {
		t.Fatalf("root result %+v: want a task ID rendered as %s and no execution ID", res, driver.OutputParentTaskID)
	}
	var first *driver.Result
	for i := 0; i < 2; i++ {
		r, err := svc.Run(ctx, nativeReq(driver.Container, "run-native", res.TaskID, firstTask(p)))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = r
		} else if r.PodSpecPatch != first.PodSpecPatch {
			t.Error("a repeated call rendered another pod spec patch")
		}
	}
	in, err := executor.ExecutorInput(first.PodSpecPatch)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.GetInputs().GetParameterValues()) == 0 {
		t.Errorf("no inputs resolved: %v", in)
	}
	if !strings.Contains(first.PodSpecPatch, `"--task_id"`) || strings.Contains(first.PodSpecPatch, "--execution_id") {
		t.Errorf("launcher command is not the native launcher's: %s", first.PodSpecPatch)
	}
	if n := srv.Calls("CreateTask"); n != 3 {
		t.Errorf("%d CreateTask calls, want 3 (root, and the task twice: the server answers the repeat)", n)
	}
	t.Log(first.Message)
}

func rootConfig(t *testing.T, p *drivertest.Pipeline, params map[string]any) *pipelinespec.PipelineJob_RuntimeConfig {
	t.Helper()
	cfg := &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{}}
	for k, v := range params {
		val, err := structpb.NewValue(v)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ParameterValues[k] = val
	}
	return cfg
}

// firstTask is a root task that depends on no other.
func firstTask(p *drivertest.Pipeline) string {
	for _, name := range slices.Sorted(maps.Keys(p.Spec.GetRoot().GetDag().GetTasks())) {
		if len(p.Spec.GetRoot().GetDag().GetTasks()[name].GetDependentTasks()) == 0 {
			return name
		}
	}
	return ""
}

// TestNativeBadArguments: on the native line, arguments naming what does
// not exist fail permanently, naming the argument; an API server that is
// down is transient (Argo asks again).
func TestNativeBadArguments(t *testing.T) {
	p := load(t, "add_numbers.yaml")
	svc, srv := nativeEnv(t, p, "run-bad")
	ctx := context.Background()
	root := nativeReq(driver.RootDAG, "run-bad", "", "")
	root.RuntimeConfig = rootConfig(t, p, map[string]any{"a": 1.0, "b": 2.0})
	res, err := svc.Run(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		req  *driver.Request
		want string
	}{
		"unknown parent":            {nativeReq(driver.Container, "run-bad", "no-such-task", firstTask(p)), "parent_task_id"},
		"unknown task":              {nativeReq(driver.Container, "run-bad", res.TaskID, "no-such-task"), "task_name"},
		"unknown run":               {nativeReq(driver.Container, "run-missing", res.TaskID, firstTask(p)), "run_id"},
		"no parent":                 {nativeReq(driver.Container, "run-bad", "", firstTask(p)), "parent_task_id"},
		"a container task as a DAG": {nativeReq(driver.DAG, "run-bad", res.TaskID, firstTask(p)), "component.dag"},
	} {
		_, err := svc.Run(ctx, c.req)
		if err == nil || driver.IsTransient(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (transient %v), want a permanent error naming %s", name, err, driver.IsTransient(err), c.want)
		}
	}
	srv.FailWith(status.Error(codes.Unavailable, "down for maintenance"))
	if _, err := svc.Run(ctx, nativeReq(driver.Container, "run-bad", res.TaskID, firstTask(p))); !driver.IsTransient(err) {
		t.Errorf("API server unavailable: %v, want a transient error", err)
	}
}

// TestNativeRunIsTheWorkflows: a native call naming another run than its
// workflow's (the run token would be minted for it) fails before any
// call to the API server.
func TestNativeRunIsTheWorkflows(t *testing.T) {
	p := load(t, "add_numbers.yaml")
	svc, srv := nativeEnv(t, p, "run-own")
	req := nativeReq(driver.RootDAG, "run-own", "", "")
	req.RuntimeConfig = rootConfig(t, p, nil)
	req.WorkflowUID = "3f2c0d4e-0000-4000-8000-000000000001"
	_, err := svc.Run(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "run_id") || srv.TotalCalls() != 0 {
		t.Errorf("run_id of another workflow: %v after %d API calls, want an error naming run_id and none", err, srv.TotalCalls())
	}
}
