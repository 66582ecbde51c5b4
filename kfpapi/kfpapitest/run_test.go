package kfpapitest_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

func TestGetRunViews(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	kid := c.create(t, runID, child(root, "train"))

	def, err := c.run.GetRun(ctx, &pb.GetRunRequest{RunId: runID})
	if err != nil {
		t.Fatal(err)
	}
	if len(def.GetTasks()) != 0 || def.GetTaskCount() != 2 {
		t.Errorf("DEFAULT view: %d tasks, task_count %d; want none and 2", len(def.GetTasks()), def.GetTaskCount())
	}
	if def.GetPipelineSpec() == nil || def.GetRuntimeConfig().GetPipelineRoot() != "minio://bucket/root" {
		t.Errorf("seeded fields lost: %v", def)
	}
	full, err := c.run.GetRun(ctx, &pb.GetRunRequest{RunId: runID, View: pb.GetRunRequest_FULL.Enum()})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.GetTasks()) != 2 || full.GetTasks()[0].GetTaskId() != root.GetTaskId() {
		t.Fatalf("FULL view tasks = %v", full.GetTasks())
	}
	if ch := full.GetTasks()[0].GetChildTasks(); len(ch) != 1 || ch[0].GetTaskId() != kid.GetTaskId() || ch[0].GetName() != "train" {
		t.Errorf("root's child_tasks in FULL view = %v", ch)
	}

	_, err = c.run.GetRun(ctx, &pb.GetRunRequest{RunId: "nope"})
	wantCode(t, "unknown run", err, codes.NotFound)
	_, err = c.run.GetRun(ctx, &pb.GetRunRequest{})
	wantCode(t, "no run id", err, codes.InvalidArgument)
}

// A run created from a pipeline version stores the version's spec; FULL
// prefers it (runtime tokens may not call GetPipelineVersion), DEFAULT
// answers the reference.
func TestGetRunPipelineVersion(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	v := c.srv.AddPipelineVersion(&pb.PipelineVersion{PipelineId: "p1", PipelineSpec: spec(t, "versioned")})
	ref := &pb.PipelineVersionReference{PipelineId: "p1", PipelineVersionId: v.GetPipelineVersionId()}
	runID := c.srv.AddRun("ns", &pb.Run{PipelineSource: &pb.Run_PipelineVersionReference{PipelineVersionReference: ref}}).GetRunId()

	def, err := c.run.GetRun(ctx, &pb.GetRunRequest{RunId: runID})
	if err != nil || !proto.Equal(def.GetPipelineVersionReference(), ref) {
		t.Errorf("DEFAULT view source = %v, %v; want the reference", def.GetPipelineSource(), err)
	}
	full, err := c.run.GetRun(ctx, &pb.GetRunRequest{RunId: runID, View: pb.GetRunRequest_FULL.Enum()})
	if err != nil || !proto.Equal(full.GetPipelineSpec(), spec(t, "versioned")) {
		t.Errorf("FULL view source = %v, %v; want the version's spec", full.GetPipelineSource(), err)
	}
	got, err := c.pipeline.GetPipelineVersion(ctx, &pb.GetPipelineVersionRequest{PipelineId: "p1", PipelineVersionId: v.GetPipelineVersionId()})
	if err != nil || !proto.Equal(got.GetPipelineSpec(), spec(t, "versioned")) {
		t.Errorf("GetPipelineVersion = %v, %v", got, err)
	}
	_, err = c.pipeline.GetPipelineVersion(ctx, &pb.GetPipelineVersionRequest{PipelineId: "p1", PipelineVersionId: "other"})
	wantCode(t, "unknown version", err, codes.NotFound)
	_, err = c.pipeline.GetPipelineVersion(ctx, &pb.GetPipelineVersionRequest{PipelineId: "p1"})
	wantCode(t, "no version id", err, codes.InvalidArgument)
}
