package kfpapitest_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

func TestUpdateTaskMerge(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	start := child(root, "train")
	start.DisplayName = "Train"
	start.Pods = []*pb.PipelineTask_TaskPod{{Name: "driver", Type: pb.PipelineTask_DRIVER}}
	start.Outputs = &pb.PipelineTask_InputOutputs{Parameters: []*pb.PipelineTask_InputOutputs_IOParameter{
		param("kept", 1, pb.IOType_OUTPUT, nil), param("replaced", "old", pb.IOType_OUTPUT, nil)}}
	task := c.create(t, runID, start)

	update := func(u *pb.PipelineTask) *pb.PipelineTask {
		t.Helper()
		got, err := c.run.UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: runID, TaskId: task.GetTaskId(), Task: u})
		if err != nil {
			t.Fatalf("UpdateTask: %v", err)
		}
		return got
	}
	got := update(&pb.PipelineTask{
		State: pb.PipelineTask_SUCCEEDED, EndTime: timestamppb.New(time.Unix(500, 7)),
		ScopePath: "ignored", CreateTime: timestamppb.New(time.Unix(1, 0)),
		StateHistory: []*pb.PipelineTask_TaskStatus{{State: pb.PipelineTask_FAILED}},
		Pods:         []*pb.PipelineTask_TaskPod{{Name: "executor", Type: pb.PipelineTask_EXECUTOR}},
		Outputs: &pb.PipelineTask_InputOutputs{Parameters: []*pb.PipelineTask_InputOutputs_IOParameter{
			param("replaced", "new", pb.IOType_OUTPUT, nil), param("added", true, pb.IOType_OUTPUT, nil)}},
	})
	if got.GetDisplayName() != "Train" || got.GetName() != "train" || got.GetScopePath() != "root.train" {
		t.Errorf("unset/ignored fields changed: %q %q %q", got.GetDisplayName(), got.GetName(), got.GetScopePath())
	}
	if got.GetCreateTime().GetSeconds() != task.GetCreateTime().GetSeconds() || got.GetEndTime().GetSeconds() != 500 || got.GetEndTime().GetNanos() != 0 {
		t.Errorf("times: create %v end %v", got.GetCreateTime(), got.GetEndTime())
	}
	if p := got.GetPods(); len(p) != 1 || p[0].GetName() != "executor" {
		t.Errorf("pods = %v, want replaced by the update's", p)
	}
	params := map[string]any{}
	for _, p := range got.GetOutputs().GetParameters() {
		params[p.GetParameterKey()] = p.GetValue().AsInterface()
	}
	if len(params) != 3 || params["kept"] != 1.0 || params["replaced"] != "new" || params["added"] != true {
		t.Errorf("merged outputs = %v", params)
	}
	states := func(h []*pb.PipelineTask_TaskStatus) (out []pb.PipelineTask_TaskState) {
		for _, s := range h {
			out = append(out, s.GetState())
		}
		return out
	}
	if h := states(got.GetStateHistory()); len(h) != 2 || h[0] != pb.PipelineTask_RUNNING || h[1] != pb.PipelineTask_SUCCEEDED {
		t.Errorf("state_history = %v, want [RUNNING SUCCEEDED] (the client's history is ignored)", h)
	}
	// The same state again adds no entry; an empty update changes nothing.
	if h := update(&pb.PipelineTask{State: pb.PipelineTask_SUCCEEDED}).GetStateHistory(); len(h) != 2 {
		t.Errorf("repeated state appended: %v", states(h))
	}
	before := c.get(t, runID, task.GetTaskId())
	if after := update(&pb.PipelineTask{}); !proto.Equal(before, after) {
		t.Errorf("empty update changed the task:\n%v\n%v", before, after)
	}
}

// Iterator values that carry no iteration are told apart by value, so
// that every iteration's propagated value stays; with an iteration, the
// later value replaces.
func TestUpdateTaskMergesIteratorValues(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	task := c.root(t, runID)
	add := func(ps ...*pb.PipelineTask_InputOutputs_IOParameter) []*pb.PipelineTask_InputOutputs_IOParameter {
		got, err := c.run.UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: runID, TaskId: task.GetTaskId(),
			Task: &pb.PipelineTask{Outputs: &pb.PipelineTask_InputOutputs{Parameters: ps}}})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetOutputs().GetParameters()
	}
	body := &pb.IOProducer{TaskName: "body"}
	add(param("x", 1, pb.IOType_ITERATOR_OUTPUT, body))
	if ps := add(param("x", 2, pb.IOType_ITERATOR_OUTPUT, body)); len(ps) != 2 {
		t.Errorf("iterator values without iteration: %d kept, want 2", len(ps))
	}
	it := &pb.IOProducer{TaskName: "body", Iteration: proto.Int64(0)}
	add(param("y", 1, pb.IOType_ITERATOR_OUTPUT, it))
	if ps := add(param("y", 2, pb.IOType_ITERATOR_OUTPUT, it)); len(ps) != 3 || ps[2].GetValue().GetNumberValue() != 2 {
		t.Errorf("iteration 0 value not replaced: %v", ps)
	}
}

func TestUpdateTaskValidation(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	task := c.root(t, runID)
	other := c.seedRun(t, "ns")
	bad := map[string]struct {
		req  *pb.UpdateTaskRequest
		code codes.Code
	}{
		"no task id":       {&pb.UpdateTaskRequest{RunId: runID, Task: &pb.PipelineTask{}}, codes.InvalidArgument},
		"no task":          {&pb.UpdateTaskRequest{RunId: runID, TaskId: task.GetTaskId()}, codes.InvalidArgument},
		"body id differs":  {&pb.UpdateTaskRequest{RunId: runID, TaskId: task.GetTaskId(), Task: &pb.PipelineTask{TaskId: "x"}}, codes.InvalidArgument},
		"body run differs": {&pb.UpdateTaskRequest{RunId: runID, TaskId: task.GetTaskId(), Task: &pb.PipelineTask{RunId: other}}, codes.InvalidArgument},
		"wrong run":        {&pb.UpdateTaskRequest{RunId: other, TaskId: task.GetTaskId(), Task: &pb.PipelineTask{}}, codes.InvalidArgument},
		"unknown task":     {&pb.UpdateTaskRequest{RunId: runID, TaskId: "nope", Task: &pb.PipelineTask{}}, codes.NotFound},
		"unknown parent":   {&pb.UpdateTaskRequest{RunId: runID, TaskId: task.GetTaskId(), Task: &pb.PipelineTask{ParentTaskId: proto.String("nope")}}, codes.NotFound},
	}
	for name, tc := range bad {
		_, err := c.run.UpdateTask(ctx, tc.req)
		wantCode(t, name, err, tc.code)
	}
}

func TestUpdateTasksBulk(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	a, b := c.create(t, runID, child(root, "a")), c.create(t, runID, child(root, "b"))
	done := &pb.PipelineTask{State: pb.PipelineTask_SUCCEEDED}

	_, err := c.run.UpdateTasksBulk(ctx, &pb.UpdateTasksBulkRequest{RunId: runID,
		Tasks: map[string]*pb.PipelineTask{a.GetTaskId(): done, "nope": done}})
	wantCode(t, "one unknown task", err, codes.NotFound)
	if c.get(t, runID, a.GetTaskId()).GetState() != pb.PipelineTask_RUNNING {
		t.Error("a refused bulk update changed a task")
	}
	resp, err := c.run.UpdateTasksBulk(ctx, &pb.UpdateTasksBulkRequest{RunId: runID,
		Tasks: map[string]*pb.PipelineTask{a.GetTaskId(): done, b.GetTaskId(): done}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.GetTaskId(), b.GetTaskId()} {
		if resp.GetTasks()[id].GetState() != pb.PipelineTask_SUCCEEDED || c.get(t, runID, id).GetState() != pb.PipelineTask_SUCCEEDED {
			t.Errorf("task %s not updated", id)
		}
	}
	_, err = c.run.UpdateTasksBulk(ctx, &pb.UpdateTasksBulkRequest{RunId: runID})
	wantCode(t, "empty bulk", err, codes.InvalidArgument)
	_, err = c.run.UpdateTasksBulk(ctx, &pb.UpdateTasksBulkRequest{RunId: c.seedRun(t, "ns"), Tasks: map[string]*pb.PipelineTask{a.GetTaskId(): done}})
	wantCode(t, "task of another run", err, codes.InvalidArgument)
}
