package publish_test

import (
	"context"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/publish"
)

const ns = "team-a"

// env is a run whose spec has a DAG "inner" of two tasks and an importer
// task at the root, with its root and inner DAG tasks created.
func env(t *testing.T) (*kfpapi.Client, string, *pb.PipelineTask, *pb.PipelineTask) {
	t.Helper()
	srv := kfpapitest.Start(t, kfpapitest.Options{})
	spec, err := structpb.NewStruct(map[string]any{
		"root": map[string]any{"dag": map[string]any{"tasks": map[string]any{
			"inner": map[string]any{"componentRef": map[string]any{"name": "comp-inner"}},
			"imp":   map[string]any{"componentRef": map[string]any{"name": "comp-imp"}},
		}}},
		"components": map[string]any{
			"comp-inner": map[string]any{"dag": map[string]any{"tasks": map[string]any{
				"a": map[string]any{"componentRef": map[string]any{"name": "comp-a"}},
				"b": map[string]any{"componentRef": map[string]any{"name": "comp-a"}},
			}}},
			"comp-a":   map[string]any{"executorLabel": "exec-a"},
			"comp-imp": map[string]any{"executorLabel": "exec-imp", "outputDefinitions": map[string]any{"artifacts": map[string]any{"artifact": map[string]any{}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddRun(ns, &pb.Run{RunId: "run-1", PipelineSource: &pb.Run_PipelineSpec{PipelineSpec: spec}})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := kfpapi.New(conn, srv.Addr(), nil)
	ctx := context.Background()
	root, err := c.CreateTask(ctx, &pb.PipelineTask{Name: "ROOT", RunId: "run-1", Type: pb.PipelineTask_ROOT, State: pb.PipelineTask_RUNNING, ScopePath: "root"})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := c.CreateTask(ctx, &pb.PipelineTask{Name: "inner", RunId: "run-1", Type: pb.PipelineTask_DAG, State: pb.PipelineTask_RUNNING,
		ScopePath: "root.inner", ParentTaskId: &root.TaskId})
	if err != nil {
		t.Fatal(err)
	}
	return c, "run-1", root, inner
}

func container(t *testing.T, c *kfpapi.Client, run string, parent *pb.PipelineTask, name string) *pb.PipelineTask {
	t.Helper()
	task, err := c.CreateTask(context.Background(), &pb.PipelineTask{Name: name, RunId: run, Type: pb.PipelineTask_RUNTIME,
		State: pb.PipelineTask_RUNNING, ScopePath: parent.GetScopePath() + "." + name, ParentTaskId: &parent.TaskId})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// TestPublishSettles: outputs land on the task (parameters typed OUTPUT,
// the artifact linked by the server), and the DAG succeeds once both of
// its tasks did, not before.
func TestPublishSettles(t *testing.T) {
	c, run, _, inner := env(t)
	ctx := context.Background()
	a, b := container(t, c, run, inner, "a"), container(t, c, run, inner, "b")
	in := &pipelinespec.ExecutorInput{Outputs: &pipelinespec.ExecutorInput_Outputs{
		Parameters: map[string]*pipelinespec.ExecutorInput_OutputParameter{"Output": {OutputFile: "/tmp/o"}},
		Artifacts: map[string]*pipelinespec.ArtifactList{"model": {Artifacts: []*pipelinespec.RuntimeArtifact{{Uri: "s3://b/model",
			Type: &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: "system.Model"}}}}}},
	}}
	out := map[string]*structpb.Value{"Output": structpb.NewNumberValue(3), "undeclared": structpb.NewBoolValue(true)}
	if err := publish.Publish(ctx, c, publish.Task{RunID: run, TaskID: a.GetTaskId(), TaskName: "a", Namespace: ns, Input: in, Parameters: out}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetTask(ctx, run, a.GetTaskId())
	if err != nil {
		t.Fatal(err)
	}
	ps := got.GetOutputs().GetParameters()
	if got.GetState() != pb.PipelineTask_SUCCEEDED || len(ps) != 1 || ps[0].GetParameterKey() != "Output" || ps[0].GetType() != pb.IOType_OUTPUT ||
		ps[0].GetProducer().GetTaskName() != "a" || ps[0].GetValue().GetNumberValue() != 3 {
		t.Errorf("task a after publishing: %v", got)
	}
	arts := got.GetOutputs().GetArtifacts()
	if len(arts) != 1 || arts[0].GetArtifactKey() != "model" || arts[0].GetArtifacts()[0].GetUri() != "s3://b/model" ||
		arts[0].GetArtifacts()[0].GetType() != pb.Artifact_Model {
		t.Errorf("task a output artifacts: %v", arts)
	}
	if d, _ := c.GetTask(ctx, run, inner.GetTaskId()); d.GetState() != pb.PipelineTask_RUNNING {
		t.Errorf("inner DAG is %s with one of two tasks done, want RUNNING", d.GetState())
	}
	if err := publish.Publish(ctx, c, publish.Task{RunID: run, TaskID: b.GetTaskId(), TaskName: "b", Namespace: ns, Input: in, Parameters: out}); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.GetTask(ctx, run, inner.GetTaskId()); d.GetState() != pb.PipelineTask_SUCCEEDED {
		t.Errorf("inner DAG is %s with both tasks done, want SUCCEEDED", d.GetState())
	}
}

// TestPublishFailure: a failed task keeps no outputs and fails its DAG.
func TestPublishFailure(t *testing.T) {
	c, run, _, inner := env(t)
	ctx := context.Background()
	a := container(t, c, run, inner, "a")
	err := publish.Publish(ctx, c, publish.Task{RunID: run, TaskID: a.GetTaskId(), TaskName: "a", Namespace: ns, Failed: true, Message: "exit 1",
		Input: &pipelinespec.ExecutorInput{}, Parameters: map[string]*structpb.Value{"Output": structpb.NewNumberValue(1)}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.GetTask(ctx, run, a.GetTaskId())
	if got.GetState() != pb.PipelineTask_FAILED || len(got.GetOutputs().GetParameters()) != 0 || got.GetStatusMetadata().GetMessage() != "exit 1" {
		t.Errorf("failed task: %v", got)
	}
	if d, _ := c.GetTask(ctx, run, inner.GetTaskId()); d.GetState() != pb.PipelineTask_FAILED {
		t.Errorf("inner DAG is %s, want FAILED", d.GetState())
	}
}

// TestImport: the importer creates its IMPORTER task under the parent with
// the artifact as its output, and an import of the same URI without
// reimport shares the artifact.
func TestImport(t *testing.T) {
	c, run, root, _ := env(t)
	ctx := context.Background()
	spec := &pipelinespec.PipelineDeploymentConfig_ImporterSpec{
		ArtifactUri: &pipelinespec.ValueOrRuntimeParameter{Value: &pipelinespec.ValueOrRuntimeParameter_Constant{Constant: structpb.NewStringValue("gs://b/data.txt")}},
		TypeSchema:  &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: "system.Dataset"}},
	}
	task, err := publish.Import(ctx, c, publish.Importer{RunID: run, ParentTaskID: root.GetTaskId(), TaskName: "imp", Namespace: ns, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.GetTask(ctx, run, task.GetTaskId())
	arts := got.GetOutputs().GetArtifacts()
	if got.GetType() != pb.PipelineTask_IMPORTER || got.GetState() != pb.PipelineTask_SUCCEEDED || got.GetScopePath() != "root.imp" ||
		len(arts) != 1 || arts[0].GetArtifactKey() != "artifact" || arts[0].GetArtifacts()[0].GetUri() != "gs://b/data.txt" ||
		arts[0].GetArtifacts()[0].GetName() != "data.txt" {
		t.Errorf("importer task: %v", got)
	}
}

// TestPublishSettlesLoop: on the native line a loop's iterations' tasks are
// all its children: it succeeds once every iteration's tasks did.
func TestPublishSettlesLoop(t *testing.T) {
	c, run, root, _ := env(t)
	ctx := context.Background()
	two := int64(2)
	loop, err := c.CreateTask(ctx, &pb.PipelineTask{Name: "inner", RunId: run, Type: pb.PipelineTask_LOOP, State: pb.PipelineTask_RUNNING,
		ScopePath: "root.inner", ParentTaskId: &root.TaskId, TypeAttributes: &pb.PipelineTask_TypeAttributes{IterationCount: &two}})
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 2; i++ {
		for _, name := range []string{"a", "b"} {
			if d, _ := c.GetTask(ctx, run, loop.GetTaskId()); d.GetState() != pb.PipelineTask_RUNNING {
				t.Fatalf("loop is %s before iteration %d's %s ran", d.GetState(), i, name)
			}
			task, err := c.CreateTask(ctx, &pb.PipelineTask{Name: name, RunId: run, Type: pb.PipelineTask_RUNTIME, State: pb.PipelineTask_RUNNING,
				ScopePath: "root.inner." + name, ParentTaskId: &loop.TaskId, TypeAttributes: &pb.PipelineTask_TypeAttributes{IterationIndex: &i}})
			if err != nil {
				t.Fatal(err)
			}
			if err := publish.Publish(ctx, c, publish.Task{RunID: run, TaskID: task.GetTaskId(), TaskName: name, Namespace: ns,
				Iteration: &i, Input: &pipelinespec.ExecutorInput{}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if d, _ := c.GetTask(ctx, run, loop.GetTaskId()); d.GetState() != pb.PipelineTask_SUCCEEDED {
		t.Errorf("loop is %s after both iterations, want SUCCEEDED", d.GetState())
	}
}
