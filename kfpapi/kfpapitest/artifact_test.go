package kfpapitest_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

func model(uri string) *pb.Artifact {
	return &pb.Artifact{Name: "model", Namespace: "ns", Type: pb.Artifact_Model, Uri: proto.String(uri)}
}

func TestArtifactsAndLinks(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	train, eval := c.create(t, runID, child(root, "train")), c.create(t, runID, child(root, "eval"))

	a, err := c.art.CreateArtifact(ctx, &pb.CreateArtifactRequest{Artifact: model("s3://b/m1"), RunId: runID, TaskId: train.GetTaskId(), ProducerKey: "out"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.art.CreateArtifact(ctx, &pb.CreateArtifactRequest{Artifact: model("s3://b/m2"), RunId: runID,
		TaskId: train.GetTaskId(), ProducerKey: "out", IterationIndex: proto.Int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.art.GetArtifact(ctx, &pb.GetArtifactRequest{ArtifactId: a.GetArtifactId()}); err != nil || got.GetUri() != "s3://b/m1" {
		t.Errorf("GetArtifact = %v, %v", got, err)
	}
	// The consumer links the artifact as its input.
	in := &pb.ArtifactTask{ArtifactId: a.GetArtifactId(), TaskId: eval.GetTaskId(), RunId: runID,
		Type: pb.IOType_TASK_OUTPUT_INPUT, Producer: &pb.IOProducer{TaskName: "train"}, Key: "model"}
	if _, err := c.art.CreateArtifactTask(ctx, &pb.CreateArtifactTaskRequest{ArtifactTask: in}); err != nil {
		t.Fatal(err)
	}
	_, err = c.art.CreateArtifactTask(ctx, &pb.CreateArtifactTaskRequest{ArtifactTask: in})
	wantCode(t, "duplicate link (KFP's unique index)", err, codes.Internal)

	outs := c.get(t, runID, train.GetTaskId()).GetOutputs().GetArtifacts()
	// Groups sort by key, then type: ITERATOR_OUTPUT (8) before OUTPUT (9).
	if len(outs) != 2 || outs[0].GetType() != pb.IOType_ITERATOR_OUTPUT || outs[1].GetType() != pb.IOType_OUTPUT ||
		outs[0].GetProducer().GetIteration() != 3 || outs[1].GetArtifactKey() != "out" || outs[1].GetArtifacts()[0].GetArtifactId() != a.GetArtifactId() {
		t.Errorf("train outputs = %v", outs)
	}
	ins := c.get(t, runID, eval.GetTaskId()).GetInputs().GetArtifacts()
	if len(ins) != 1 || ins[0].GetArtifactKey() != "model" || ins[0].GetArtifacts()[0].GetArtifactId() != a.GetArtifactId() {
		t.Errorf("eval inputs = %v", ins)
	}

	list := func(req *pb.ListArtifactTasksRequest) int {
		t.Helper()
		resp, err := c.art.ListArtifactTasks(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.GetArtifactTasks())
	}
	if n := list(&pb.ListArtifactTasksRequest{RunIds: []string{runID}}); n != 3 {
		t.Errorf("links of the run: %d, want 3", n)
	}
	if n := list(&pb.ListArtifactTasksRequest{ArtifactIds: []string{a.GetArtifactId()}}); n != 2 {
		t.Errorf("links of artifact a: %d, want 2", n)
	}
	if n := list(&pb.ListArtifactTasksRequest{TaskIds: []string{train.GetTaskId()}, Type: pb.IOType_ITERATOR_OUTPUT}); n != 1 {
		t.Errorf("iterator outputs of train: %d, want 1", n)
	}
	if n := list(&pb.ListArtifactTasksRequest{TaskIds: []string{train.GetTaskId(), eval.GetTaskId()}, ArtifactIds: []string{it.GetArtifactId()}}); n != 1 {
		t.Errorf("ANDed lists: %d, want 1", n)
	}
	_, err = c.art.ListArtifactTasks(ctx, &pb.ListArtifactTasksRequest{})
	wantCode(t, "no id list", err, codes.InvalidArgument)
	_, err = c.art.ListArtifactTasks(ctx, &pb.ListArtifactTasksRequest{TaskIds: []string{""}})
	wantCode(t, "empty id", err, codes.InvalidArgument)

	// The importer's lookup by URI.
	resp, err := c.art.ListArtifacts(ctx, &pb.ListArtifactRequest{Namespace: "ns", PageSize: 1000,
		Filter: `{"predicates":[{"key":"uri","operation":"EQUALS","string_value":"s3://b/m2"}]}`})
	if err != nil || len(resp.GetArtifacts()) != 1 || resp.GetArtifacts()[0].GetArtifactId() != it.GetArtifactId() {
		t.Errorf("ListArtifacts by uri = %v, %v", resp, err)
	}
	_, err = c.art.ListArtifacts(ctx, &pb.ListArtifactRequest{Filter: `{"predicates":[{"key":"name","operation":"EQUALS","string_value":"x"}]}`})
	wantCode(t, "unimplemented filter", err, codes.InvalidArgument)
}

func TestCreateArtifactReuse(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	imp1, imp2 := c.create(t, runID, child(root, "imp1")), c.create(t, runID, child(root, "imp2"))
	create := func(task string, reuse bool) *pb.Artifact {
		a, err := c.art.CreateArtifact(ctx, &pb.CreateArtifactRequest{Artifact: model("s3://b/x"), RunId: runID, TaskId: task, ProducerKey: "artifact", ReuseIfExists: reuse})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := create(imp1.GetTaskId(), true)
	if again := create(imp2.GetTaskId(), true); again.GetArtifactId() != first.GetArtifactId() {
		t.Error("reuse_if_exists made a second artifact")
	}
	if len(c.get(t, runID, imp2.GetTaskId()).GetOutputs().GetArtifacts()) != 1 {
		t.Error("the reusing task got no link")
	}
	if fresh := create(imp2.GetTaskId(), false); fresh.GetArtifactId() == first.GetArtifactId() {
		t.Error("without reuse_if_exists the artifact was shared")
	}
}

func TestArtifactValidation(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	task := c.root(t, runID)
	req := func(edit func(*pb.CreateArtifactRequest)) *pb.CreateArtifactRequest {
		r := &pb.CreateArtifactRequest{Artifact: model("s3://b/m"), RunId: runID, TaskId: task.GetTaskId(), ProducerKey: "out"}
		edit(r)
		return r
	}
	bad := map[string]struct {
		req  *pb.CreateArtifactRequest
		code codes.Code
	}{
		"id set":          {req(func(r *pb.CreateArtifactRequest) { r.Artifact.ArtifactId = "x" }), codes.InvalidArgument},
		"no namespace":    {req(func(r *pb.CreateArtifactRequest) { r.Artifact.Namespace = "" }), codes.InvalidArgument},
		"no type":         {req(func(r *pb.CreateArtifactRequest) { r.Artifact.Type = 0 }), codes.InvalidArgument},
		"no name":         {req(func(r *pb.CreateArtifactRequest) { r.Artifact.Name = "" }), codes.InvalidArgument},
		"no producer key": {req(func(r *pb.CreateArtifactRequest) { r.ProducerKey = "" }), codes.InvalidArgument},
		"metric no value": {req(func(r *pb.CreateArtifactRequest) { r.Artifact.Type = pb.Artifact_Metric }), codes.InvalidArgument},
		"other namespace": {req(func(r *pb.CreateArtifactRequest) { r.Artifact.Namespace = "other" }), codes.InvalidArgument},
		"unknown task":    {req(func(r *pb.CreateArtifactRequest) { r.TaskId = "nope" }), codes.NotFound},
		"task elsewhere":  {req(func(r *pb.CreateArtifactRequest) { r.RunId = c.seedRun(t, "ns") }), codes.InvalidArgument},
	}
	for name, tc := range bad {
		_, err := c.art.CreateArtifact(ctx, tc.req)
		wantCode(t, name, err, tc.code)
	}
	good := req(func(*pb.CreateArtifactRequest) {})
	_, err := c.art.CreateArtifactsBulk(ctx, &pb.CreateArtifactsBulkRequest{Artifacts: []*pb.CreateArtifactRequest{good, bad["unknown task"].req}})
	wantCode(t, "bulk with one bad", err, codes.NotFound)
	if resp, _ := c.art.ListArtifacts(ctx, &pb.ListArtifactRequest{Namespace: "ns"}); len(resp.GetArtifacts()) != 0 {
		t.Error("a refused bulk create stored artifacts")
	}
	_, err = c.art.GetArtifact(ctx, &pb.GetArtifactRequest{ArtifactId: "nope"})
	wantCode(t, "unknown artifact", err, codes.NotFound)
	link := &pb.ArtifactTask{ArtifactId: "nope", TaskId: task.GetTaskId(), RunId: runID, Type: pb.IOType_COMPONENT_INPUT, Producer: &pb.IOProducer{}, Key: "k"}
	_, err = c.art.CreateArtifactTasksBulk(ctx, &pb.CreateArtifactTasksBulkRequest{ArtifactTasks: []*pb.ArtifactTask{link}})
	wantCode(t, "link to unknown artifact", err, codes.NotFound)
	link.Producer = nil
	_, err = c.art.CreateArtifactTask(ctx, &pb.CreateArtifactTaskRequest{ArtifactTask: link})
	wantCode(t, "link without producer", err, codes.InvalidArgument)
}
