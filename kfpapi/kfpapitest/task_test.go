package kfpapitest_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

func TestCreateTaskValidation(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	otherRoot := c.root(t, c.seedRun(t, "ns"))
	bad := map[string]struct {
		req  *pb.CreateTaskRequest
		code codes.Code
	}{
		"no run id":           {&pb.CreateTaskRequest{Task: &pb.PipelineTask{Name: "x"}}, codes.InvalidArgument},
		"no task":             {&pb.CreateTaskRequest{RunId: runID}, codes.InvalidArgument},
		"body run differs":    {&pb.CreateTaskRequest{RunId: runID, Task: &pb.PipelineTask{RunId: "other"}}, codes.InvalidArgument},
		"unknown run":         {&pb.CreateTaskRequest{RunId: "nope", Task: &pb.PipelineTask{Name: "x"}}, codes.NotFound},
		"unknown parent":      {&pb.CreateTaskRequest{RunId: runID, Task: &pb.PipelineTask{ParentTaskId: proto.String("nope")}}, codes.NotFound},
		"parent of other run": {&pb.CreateTaskRequest{RunId: runID, Task: child(otherRoot, "x")}, codes.InvalidArgument},
	}
	for name, tc := range bad {
		_, err := c.run.CreateTask(ctx, tc.req)
		wantCode(t, name, err, tc.code)
	}
	if n := c.srv.Calls(kfpapitest.MethodCreateTask); n != len(bad)+1 {
		t.Errorf("CreateTask calls = %d, want %d (refused ones count)", n, len(bad)+1)
	}
}

func TestCreateTaskStoredShape(t *testing.T) {
	now := time.Unix(1700000000, 999)
	c := dial(t, kfpapitest.Options{Now: func() time.Time { return now }})
	runID := c.seedRun(t, "ns")
	in := &pb.PipelineTask{
		TaskId: "client-chosen", Name: "root", ScopePath: "root", Type: pb.PipelineTask_ROOT,
		State:      pb.PipelineTask_RUNNING,
		ChildTasks: []*pb.PipelineTask_ChildTask{{TaskId: "bogus"}},
		Inputs: &pb.PipelineTask_InputOutputs{
			Parameters: []*pb.PipelineTask_InputOutputs_IOParameter{param("p", "v", pb.IOType_RUNTIME_VALUE_INPUT, nil)},
			Artifacts:  []*pb.PipelineTask_InputOutputs_IOArtifact{{ArtifactKey: "a"}},
		},
	}
	got := c.create(t, runID, in)
	if _, err := uuid.Parse(got.GetTaskId()); err != nil {
		t.Errorf("task_id %q is not a UUID", got.GetTaskId())
	}
	if got.GetRunId() != runID || got.GetCreateTime().AsTime() != time.Unix(now.Unix(), 0).UTC() {
		t.Errorf("run_id %q create_time %v", got.GetRunId(), got.GetCreateTime())
	}
	if h := got.GetStateHistory(); len(h) != 1 || h[0].GetState() != pb.PipelineTask_RUNNING {
		t.Errorf("state_history = %v, want one RUNNING entry", h)
	}
	if len(got.GetChildTasks()) != 0 || len(got.GetInputs().GetArtifacts()) != 0 || len(got.GetInputs().GetParameters()) != 1 {
		t.Errorf("stored inputs %v, children %v: artifacts and children are not taken from a create", got.GetInputs(), got.GetChildTasks())
	}
	if got.GetOutputs() == nil {
		t.Error("outputs missing; KFP always answers both inputs and outputs")
	}
	set := c.create(t, runID, &pb.PipelineTask{Name: "x", CreateTime: timestamppb.New(time.Unix(100, 5))})
	if set.GetCreateTime().GetSeconds() != 100 || set.GetCreateTime().GetNanos() != 0 {
		t.Errorf("client create_time kept as %v, want whole seconds 100", set.GetCreateTime())
	}
}

// KFP returns the stored task for a create that repeats a task's logical
// identity (a retried driver), so retries do not duplicate tasks.
func TestCreateTaskIdempotent(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	first := c.create(t, runID, child(root, "train"))
	again := child(root, "train")
	again.DisplayName = "changed"
	second := c.create(t, runID, again)
	if second.GetTaskId() != first.GetTaskId() || second.GetDisplayName() != "" {
		t.Errorf("repeat create = %s %q, want the stored %s unchanged", second.GetTaskId(), second.GetDisplayName(), first.GetTaskId())
	}
	if again := c.root(t, runID); again.GetTaskId() != root.GetTaskId() {
		t.Error("repeated root create made a second root")
	}
	iter := func(i int64) *pb.PipelineTask {
		t := child(root, "loop-body")
		t.TypeAttributes = &pb.PipelineTask_TypeAttributes{IterationIndex: proto.Int64(i)}
		return t
	}
	if a, b := c.create(t, runID, iter(0)), c.create(t, runID, iter(1)); a.GetTaskId() == b.GetTaskId() {
		t.Error("iterations 0 and 1 share a task")
	}
	untyped := &pb.PipelineTask{Name: "n", ScopePath: "root.n"}
	if a, b := c.create(t, runID, untyped), c.create(t, runID, untyped); a.GetTaskId() == b.GetTaskId() {
		t.Error("tasks without a type have no logical identity in KFP, yet were merged")
	}
}

func TestParentChildBookkeeping(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	a := c.create(t, runID, child(root, "a"))
	b := c.create(t, runID, child(root, "b"))
	grand := c.create(t, runID, child(a, "g"))

	ids := func(ch []*pb.PipelineTask_ChildTask) (out []string) {
		for _, c := range ch {
			out = append(out, c.GetTaskId())
		}
		return out
	}
	if got := ids(c.get(t, runID, root.GetTaskId()).GetChildTasks()); len(got) != 2 || got[0] != a.GetTaskId() || got[1] != b.GetTaskId() {
		t.Errorf("root children = %v, want [a b]", got)
	}
	if got := ids(c.get(t, runID, a.GetTaskId()).GetChildTasks()); len(got) != 1 || got[0] != grand.GetTaskId() {
		t.Errorf("a's children = %v", got)
	}
	// Re-parenting g under b moves it; an empty parent detaches it.
	if _, err := c.run.UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: runID, TaskId: grand.GetTaskId(),
		Task: &pb.PipelineTask{ParentTaskId: proto.String(b.GetTaskId())}}); err != nil {
		t.Fatal(err)
	}
	if len(c.get(t, runID, a.GetTaskId()).GetChildTasks()) != 0 || len(c.get(t, runID, b.GetTaskId()).GetChildTasks()) != 1 {
		t.Error("children not moved with the parent change")
	}
	if _, err := c.run.UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: runID, TaskId: grand.GetTaskId(),
		Task: &pb.PipelineTask{ParentTaskId: proto.String("")}}); err != nil {
		t.Fatal(err)
	}
	if g := c.get(t, runID, grand.GetTaskId()); g.ParentTaskId != nil || len(c.get(t, runID, b.GetTaskId()).GetChildTasks()) != 0 {
		t.Errorf("detached task still has parent %v", g.ParentTaskId)
	}

	_, err := c.run.GetTask(ctx, &pb.GetTaskRequest{RunId: c.seedRun(t, "ns"), TaskId: a.GetTaskId()})
	wantCode(t, "task of another run", err, codes.InvalidArgument)
	_, err = c.run.GetTask(ctx, &pb.GetTaskRequest{RunId: runID, TaskId: "nope"})
	wantCode(t, "unknown task", err, codes.NotFound)
	_, err = c.run.GetTask(ctx, &pb.GetTaskRequest{TaskId: a.GetTaskId()})
	wantCode(t, "no run id", err, codes.InvalidArgument)
}
