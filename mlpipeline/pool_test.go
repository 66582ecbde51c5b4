package mlpipeline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

func TestAddress(t *testing.T) {
	if got := mlpipeline.Address("ml-pipeline.kubeflow", "8887"); got != "ml-pipeline.kubeflow:8887" {
		t.Errorf("Address = %q", got)
	}
}

func TestPoolReusesConnectionPerAddress(t *testing.T) {
	var pool mlpipeline.Pool
	defer pool.Close()
	opts := []mlpipeline.Options{
		{Address: "a:1"},
		{Address: "a:1", Timeout: time.Second}, // timeout does not split connections
		{Address: "b:1"},
		{Address: "a:1", TLS: true},
	}
	for _, o := range opts {
		if _, err := pool.Client(o); err != nil {
			t.Fatal(err)
		}
	}
	if pool.Len() != 3 {
		t.Errorf("pool holds %d connections, want 3", pool.Len())
	}
}

func TestPoolConcurrentClients(t *testing.T) {
	srv := mlpipelinetest.StartTest(t)
	var pool mlpipeline.Pool
	defer pool.Close()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pool.Client(mlpipeline.Options{Address: srv.Addr()})
			if err == nil {
				_, err = c.ListTasks(context.Background(), &apipb.ListTasksRequest{})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if pool.Len() != 1 {
		t.Errorf("pool holds %d connections, want 1", pool.Len())
	}
}

func TestPoolErrors(t *testing.T) {
	var pool mlpipeline.Pool
	if _, err := pool.Client(mlpipeline.Options{}); err == nil {
		t.Error("empty address accepted")
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Client(mlpipeline.Options{Address: "a:1"}); err == nil {
		t.Error("closed pool handed out a client")
	}
}

func TestClientRoundTrip(t *testing.T) {
	srv := mlpipelinetest.StartTest(t)
	var pool mlpipeline.Pool
	defer pool.Close()
	c, err := pool.Client(mlpipeline.Options{Address: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created, err := c.CreateTask(ctx, &apipb.Task{
		PipelineName: "pipeline/p", Namespace: "ns", RunId: "r", MlmdExecutionID: "7",
		Fingerprint: "fp", CreatedAt: timestamppb.New(time.Unix(100, 0)),
	})
	if err != nil || created.GetId() == "" {
		t.Fatalf("CreateTask = %v, %v", created, err)
	}
	resp, err := c.ListTasks(ctx, &apipb.ListTasksRequest{})
	if err != nil || len(resp.GetTasks()) != 1 || resp.GetTasks()[0].GetId() != created.GetId() {
		t.Fatalf("ListTasks = %v, %v", resp, err)
	}
}

// The per-RPC deadline applies, and the gRPC code survives the wrapping.
func TestClientDeadline(t *testing.T) {
	srv := mlpipelinetest.StartTest(t)
	srv.SetDelay(5 * time.Second)
	var pool mlpipeline.Pool
	defer pool.Close()
	c, err := pool.Client(mlpipeline.Options{Address: srv.Addr(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.ListTasks(context.Background(), &apipb.ListTasksRequest{})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("call took %v despite a 50ms deadline", time.Since(start))
	}
}
