package drivertest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube/kubetest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver/mlmdservertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
)

// Namespace is the namespace test runs are in.
const Namespace = "kubeflow-user"

// Env is a driver wired to an in-memory MLMD server and ml-pipeline task
// server over loopback gRPC, with a launcher stand-in on the same stores;
// or, from NewNativeEnv, to the KFP API test server (the native line).
type Env struct {
	// Line is the KFP line the env's walks follow.
	Line driver.Line
	// API is the native line's KFP API server, NativeLauncher its
	// launcher stand-in; nil on the MLMD line, as the MLMD fields are on
	// the native line.
	API    *kfpapitest.Server
	Native *NativeLauncher

	MLMDServer *mlmdserver.Running
	TaskServer *mlpipelinetest.Server
	MLMD       *mlmd.Client // the launcher's and the test's own client
	Pool       *mlmd.Pool   // the driver's
	Tasks      *mlpipeline.Pool
	Service    *flow.Service
	Launcher   *Launcher
	Options    driver.Options
	// Endpoints are the driver's configured services: the two test servers.
	Endpoints driver.Endpoints
	Kube      *kubetest.Fake // PVC ops and the kfp-launcher ConfigMap
}

// NewEnv starts the servers; everything stops when the test ends. The
// driver's Kubernetes API is an in-memory fake (Env.Kube).
func NewEnv(t testing.TB) *Env {
	t.Helper()
	fake := kubetest.New()
	e := NewEnvWith(t, fake)
	e.Kube = fake
	return e
}

// NewEnvWith is NewEnv with the driver talking to k, e.g. a client of a
// real API server; Env.Kube is then nil.
func NewEnvWith(t testing.TB, k kube.Interface) *Env {
	t.Helper()
	e := &Env{MLMDServer: mlmdservertest.StartTest(t), TaskServer: mlpipelinetest.StartTest(t)}
	mhost, mport, _ := net.SplitHostPort(e.MLMDServer.Addr)
	phost, pport, _ := net.SplitHostPort(e.TaskServer.Addr())
	e.Options = driver.Options{
		MLMDAddress: mhost, MLMDPort: mport, MLPipelineAddress: phost, MLPipelinePort: pport,
		LogLevel: "1", PublishLogs: "true",
	}
	e.Pool = mlmd.NewPool(mlmd.Config{Backoff: 5 * time.Millisecond, Retries: 2})
	tasks := &mlpipeline.Pool{}
	e.Tasks = tasks
	t.Cleanup(func() { _ = e.Pool.Close(); _ = tasks.Close() })
	e.Endpoints = driver.Endpoints{MLMDHost: mhost, MLMDPort: mport, MLPipelineHost: phost, MLPipelinePort: pport}
	e.Service = flow.New(flow.Deps{MLMD: e.Pool, Tasks: tasks, Kube: k, Endpoints: e.Endpoints})
	var err error
	if e.MLMD, err = mlmd.NewPool(mlmd.Config{}).Get(mlmd.Endpoint{Host: mhost, Port: mport}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.MLMD.Close() })
	taskClient, err := tasks.Client(mlpipeline.Options{Address: e.TaskServer.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	e.Launcher = &Launcher{MLMD: e.MLMD, Cache: cache.New(taskClient), Namespace: Namespace}
	return e
}

// NewNativeEnv starts the KFP API test server and a driver whose native
// backend dials it (requests with Line driver.LineNative); everything stops
// when the test ends. The driver's Kubernetes API is an in-memory fake.
func NewNativeEnv(t testing.TB) *Env {
	t.Helper()
	e := &Env{Line: driver.LineNative, API: kfpapitest.Start(t, kfpapitest.Options{}), Kube: kubetest.New()}
	host, port, _ := net.SplitHostPort(e.API.Addr())
	e.Options = driver.Options{MLPipelineAddress: host, MLPipelinePort: port, LogLevel: "1", PublishLogs: "true"}
	tasks := &mlpipeline.Pool{}
	e.Tasks = tasks
	t.Cleanup(func() { _ = tasks.Close() })
	// flow.New takes endpoints without an MLMD host for unset ones and
	// uses KFP's defaults; the native line never dials MLMD.
	e.Endpoints = driver.Endpoints{MLMDHost: "mlmd.invalid", MLMDPort: "8080", MLPipelineHost: host, MLPipelinePort: port}
	e.Service = flow.New(flow.Deps{Tasks: tasks, Kube: e.Kube, Endpoints: e.Endpoints})
	conn, err := grpc.NewClient(e.API.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dialling the KFP API test server: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	e.Native = &NativeLauncher{Conn: conn, Namespace: Namespace}
	return e
}

// Walker returns a walker for one run of p against this environment, on
// the env's line.
func (e *Env) Walker(p *Pipeline, runID string) *Walker {
	w := &Walker{
		Driver: e.Service, Launcher: e.Launcher, MLMD: e.MLMD,
		Base: driver.Request{
			Namespace: Namespace, PipelineName: p.Spec.GetPipelineInfo().GetName(),
			RunID: runID, RunName: "wf-" + runID, RunDisplayName: "run " + runID,
			WorkflowName: "wf-" + runID, WorkflowUID: runID,
			PipelineJobCreateTime: "2026-01-02T03:04:05Z", IterationIndex: -1, Options: e.Options,
		},
	}
	if e.Line == driver.LineNative {
		w.Base.Line, w.Native, w.Seed = driver.LineNative, e.Native, e.seed
	}
	return w
}

// seed stores the run in the API test server as KFP's API server has it
// when the workflow starts.
func (e *Env) seed(_ context.Context, p *Pipeline, root *driver.Request) error {
	run, err := NativeRun(p, root)
	if err != nil {
		return err
	}
	e.API.AddRun(root.Namespace, run)
	return nil
}

// NativeRun is the run KFP's API server stores for a walk: the ROOT_DAG
// request's run ID, display name and runtime config, and p's pipeline spec.
func NativeRun(p *Pipeline, root *driver.Request) (*pb.Run, error) {
	b, err := protojson.Marshal(p.Spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the pipeline spec: %w", err)
	}
	spec := &structpb.Struct{}
	if err := protojson.Unmarshal(b, spec); err != nil {
		return nil, fmt.Errorf("pipeline spec as a struct: %w", err)
	}
	cfg := root.RuntimeConfig
	return &pb.Run{RunId: root.RunID, DisplayName: root.RunDisplayName,
		PipelineSource: &pb.Run_PipelineSpec{PipelineSpec: spec},
		RuntimeConfig:  &pb.RuntimeConfig{Parameters: cfg.GetParameterValues(), PipelineRoot: cfg.GetGcsOutputDirectory()},
		State:          pb.RuntimeState_RUNNING}, nil
}
