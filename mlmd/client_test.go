package mlmd_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver/mlmdservertest"
)

func setup(t *testing.T, cfg mlmd.Config) (mlmd.Endpoint, *mlmd.Client, func(string, codes.Code, int)) {
	t.Helper()
	srv := mlmdservertest.StartTest(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	ep := mlmd.Endpoint{Host: host, Port: port}
	return ep, client(t, ep, cfg), srv.Server.FailNext
}

func client(t *testing.T, ep mlmd.Endpoint, cfg mlmd.Config) *mlmd.Client {
	t.Helper()
	pool := mlmd.NewPool(cfg)
	t.Cleanup(func() { _ = pool.Close() })
	c, err := pool.Get(ep)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPoolReusesOneClientPerEndpoint(t *testing.T) {
	pool := mlmd.NewPool(mlmd.Config{})
	defer pool.Close()
	a, _ := pool.Get(mlmd.Endpoint{Host: "127.0.0.1", Port: "1"})
	b, _ := pool.Get(mlmd.Endpoint{Host: "127.0.0.1", Port: "1"})
	c, _ := pool.Get(mlmd.Endpoint{Host: "127.0.0.1", Port: "2"})
	if a != b || a == c {
		t.Fatal("want one client per endpoint")
	}
	if _, err := pool.Get(mlmd.Endpoint{Host: "h", Port: "1", TLS: true, CAPEM: "not a certificate"}); err == nil {
		t.Fatal("TLS with a CA bundle without certificates: want an error")
	}
	if _, err := pool.Get(mlmd.Endpoint{Host: "h", Port: "1", TLS: true}); err != nil {
		t.Fatalf("TLS with system roots: %v", err)
	}
}

func TestRetriesUnavailableOnly(t *testing.T) {
	_, c, failNext := setup(t, mlmd.Config{Backoff: time.Millisecond, Retries: 3})
	ctx := context.Background()
	run, err := c.EnsureRun(ctx, mlmd.RunSpec{PipelineName: "p", RunID: "r", Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	failNext("GetExecutionsByID", codes.Unavailable, 2)
	if _, err := c.ExecutionsByID(ctx, 1); err != nil {
		t.Fatalf("two Unavailable then success: %v", err)
	}
	failNext("GetExecutionsByID", codes.Unavailable, 4)
	if _, err := c.ExecutionsByID(ctx, 1); err == nil || !mlmd.IsUnreachable(err) {
		t.Fatalf("Unavailable past the retries: err = %v, want unreachable", err)
	}
	failNext("GetExecutionsByID", codes.Internal, 1)
	if _, err := c.ExecutionsByID(ctx, 1); err == nil || mlmd.IsUnreachable(err) {
		t.Fatalf("Internal: err = %v, want a permanent error, not retried", err)
	}
	// A write retried after Unavailable finds its own execution by name.
	failNext("PutExecution", codes.Unavailable, 1)
	n := mlmd.NewExecution{TypeName: mlmd.DAGExecutionType, Name: mlmd.RootExecutionName("r"), State: pb.Execution_RUNNING}
	e1, created, err := c.CreateExecution(ctx, run, n)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	e2, created, err := c.CreateExecution(ctx, run, n)
	if err != nil || created || e2.ID() != e1.ID() {
		t.Fatalf("repeat: id %d created %v err %v, want the existing %d", e2.ID(), created, err, e1.ID())
	}
}

func TestRunContextsAndNames(t *testing.T) {
	ep, c, _ := setup(t, mlmd.Config{})
	ctx := context.Background()
	spec := mlmd.RunSpec{PipelineName: "p", RunID: "r1", Namespace: "ns", PipelineRoot: "minio://b/p/r1", StoreSessionInfo: `{"Provider":"minio"}`}
	run, err := c.EnsureRun(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.EnsureRun(ctx, spec)
	if err != nil || again.RunContext != run.RunContext {
		t.Fatalf("EnsureRun twice: %v %v", again, err)
	}
	root, _, err := c.CreateExecution(ctx, run, mlmd.NewExecution{TypeName: mlmd.DAGExecutionType, Name: mlmd.RootExecutionName("r1"), State: pb.Execution_RUNNING})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh client finds the run through one of its executions.
	other := client(t, ep, mlmd.Config{})
	found, err := other.RunOf(ctx, "p", "r1", root.ID())
	if err != nil || found.PipelineRoot != "minio://b/p/r1" || found.Namespace != "ns" || found.RunContext != run.RunContext {
		t.Fatalf("RunOf = %+v, %v", found, err)
	}
	if other.Calls() != 1 {
		t.Errorf("RunOf from a fresh client: %d RPCs, want 1", other.Calls())
	}
	long := mlmd.ExecutionName("r1", 7, strings.Repeat("t", 300), 2)
	if len(long) > 255 || !strings.HasPrefix(long, "run/r1/h/") {
		t.Errorf("long name %q (%d)", long, len(long))
	}
	if a, b := mlmd.ExecutionName("r", 1, "t", -1), mlmd.ExecutionName("r", 1, "t", 0); a == b {
		t.Error("a loop and its first iteration share a name")
	}
}
