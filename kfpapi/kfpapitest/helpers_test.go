package kfpapitest_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// client talks to the server with the bare generated clients, so tests
// exercise the wire and nothing of ours on the client side.
type client struct {
	run      pb.RunServiceClient
	art      pb.ArtifactServiceClient
	pipeline pb.PipelineServiceClient
	srv      *kfpapitest.Server
}

func dial(t *testing.T, opts kfpapitest.Options) *client {
	t.Helper()
	srv := kfpapitest.Start(t, opts)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &client{pb.NewRunServiceClient(conn), pb.NewArtifactServiceClient(conn), pb.NewPipelineServiceClient(conn), srv}
}

var ctx = context.Background()

func spec(t *testing.T, name string) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(map[string]any{"pipelineInfo": map[string]any{"name": name}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seedRun adds a run with an embedded spec in namespace ns.
func (c *client) seedRun(t *testing.T, ns string) string {
	t.Helper()
	return c.srv.AddRun(ns, &pb.Run{
		DisplayName:    "r",
		PipelineSource: &pb.Run_PipelineSpec{PipelineSpec: spec(t, "p")},
		RuntimeConfig:  &pb.RuntimeConfig{PipelineRoot: "minio://bucket/root"},
	}).GetRunId()
}

func (c *client) create(t *testing.T, runID string, task *pb.PipelineTask) *pb.PipelineTask {
	t.Helper()
	got, err := c.run.CreateTask(ctx, &pb.CreateTaskRequest{RunId: runID, Task: task})
	if err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	return got
}

func (c *client) get(t *testing.T, runID, taskID string) *pb.PipelineTask {
	t.Helper()
	got, err := c.run.GetTask(ctx, &pb.GetTaskRequest{RunId: runID, TaskId: taskID})
	if err != nil {
		t.Fatalf("GetTask: %v", err)
	}
	return got
}

// root creates a run's root task.
func (c *client) root(t *testing.T, runID string) *pb.PipelineTask {
	return c.create(t, runID, &pb.PipelineTask{Name: "root", ScopePath: "root", Type: pb.PipelineTask_ROOT, State: pb.PipelineTask_RUNNING})
}

func child(parent *pb.PipelineTask, name string) *pb.PipelineTask {
	return &pb.PipelineTask{
		Name: name, ScopePath: parent.GetScopePath() + "." + name, Type: pb.PipelineTask_RUNTIME,
		ParentTaskId: proto.String(parent.GetTaskId()), State: pb.PipelineTask_RUNNING,
	}
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Errorf("%s: err = %v, want %v", what, err, code)
	}
}

func param(key string, v any, typ pb.IOType, producer *pb.IOProducer) *pb.PipelineTask_InputOutputs_IOParameter {
	val, _ := structpb.NewValue(v)
	return &pb.PipelineTask_InputOutputs_IOParameter{ParameterKey: key, Value: val, Type: typ, Producer: producer}
}
