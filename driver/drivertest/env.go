package drivertest

import (
	"net"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
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
// server over loopback gRPC, with a launcher stand-in on the same stores.
type Env struct {
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

// Walker returns a walker for one run of p against this environment.
func (e *Env) Walker(p *Pipeline, runID string) *Walker {
	return &Walker{
		Driver: e.Service, Launcher: e.Launcher, MLMD: e.MLMD,
		Base: driver.Request{
			Namespace: Namespace, PipelineName: p.Spec.GetPipelineInfo().GetName(),
			RunID: runID, RunName: "wf-" + runID, RunDisplayName: "run " + runID,
			WorkflowName: "wf-" + runID, WorkflowUID: runID,
			PipelineJobCreateTime: "2026-01-02T03:04:05Z", IterationIndex: -1, Options: e.Options,
		},
	}
}
