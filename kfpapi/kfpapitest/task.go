package kfpapitest

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// taskRecord is a stored task. task never holds child_tasks or artifacts:
// both are derived on read, as KFP derives them from other tables.
type taskRecord struct {
	seq        int
	namespace  string
	logicalKey string // "" when the task has no logical identity
	task       *pb.PipelineTask
}

// CreateTask stores a task of an existing run, or returns the task already
// stored under the same logical identity (see logicalKey).
func (s *Server) CreateTask(_ context.Context, req *pb.CreateTaskRequest) (*pb.PipelineTask, error) {
	runID, t := req.GetRunId(), req.GetTask()
	switch {
	case runID == "":
		return nil, invalid("run_id is required")
	case t == nil:
		return nil, invalid("task is required")
	case t.GetRunId() != "" && t.GetRunId() != runID:
		return nil, invalid("task run_id %q differs from run_id %q", t.GetRunId(), runID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.runs[runID]
	if run == nil {
		return nil, notFound("run", runID)
	}
	if err := s.checkParent(t.ParentTaskId, runID); err != nil {
		return nil, err
	}
	stored := s.newTask(t, runID)
	key := logicalKey(stored)
	if r := s.byKey[key]; key != "" && r != nil {
		return s.view(r, false, false), nil
	}
	rec := &taskRecord{seq: s.nextSeq(), namespace: run.namespace, logicalKey: key, task: stored}
	s.tasks[stored.GetTaskId()] = rec
	s.taskList = append(s.taskList, rec)
	if key != "" {
		s.byKey[key] = rec
	}
	s.adopt(rec)
	return s.view(rec, false, false), nil
}

// newTask is what KFP keeps of a task on create: a fresh id, whole-second
// times, only the parameters of inputs and outputs (artifacts are links),
// no child list, and the state recorded in its history.
func (s *Server) newTask(t *pb.PipelineTask, runID string) *pb.PipelineTask {
	c := proto.Clone(t).(*pb.PipelineTask)
	c.TaskId, c.RunId, c.ChildTasks = newID(), runID, nil
	if c.GetParentTaskId() == "" {
		c.ParentTaskId = nil
	}
	c.Inputs, c.Outputs = parametersOnly(c.GetInputs()), parametersOnly(c.GetOutputs())
	now := s.nowSeconds()
	if c.GetCreateTime().GetSeconds() > 0 {
		c.CreateTime = &timestamppb.Timestamp{Seconds: c.GetCreateTime().GetSeconds()}
	} else {
		c.CreateTime = &timestamppb.Timestamp{Seconds: now}
	}
	c.EndTime = wholeSeconds(c.GetEndTime())
	c.StateHistory = appendState(c.GetStateHistory(), c.GetState(), now)
	return c
}

// logicalKey is KFP's duplicate guard for retried creates: run, parent,
// scope path, name, type and iteration index, when run, scope path, name
// and type are all set.
func logicalKey(t *pb.PipelineTask) string {
	if t.GetRunId() == "" || t.GetScopePath() == "" || t.GetName() == "" || t.GetType() == 0 {
		return ""
	}
	iter := "-"
	if ta := t.GetTypeAttributes(); ta != nil && ta.IterationIndex != nil {
		iter = fmt.Sprint(ta.GetIterationIndex())
	}
	return fmt.Sprintf("%q %q %q %q %d %s", t.GetRunId(), t.GetParentTaskId(), t.GetScopePath(), t.GetName(), t.GetType(), iter)
}

func parametersOnly(io *pb.PipelineTask_InputOutputs) *pb.PipelineTask_InputOutputs {
	if len(io.GetParameters()) == 0 {
		return nil
	}
	return &pb.PipelineTask_InputOutputs{Parameters: io.GetParameters()}
}

func wholeSeconds(ts *timestamppb.Timestamp) *timestamppb.Timestamp {
	if ts.GetSeconds() <= 0 {
		return nil
	}
	return &timestamppb.Timestamp{Seconds: ts.GetSeconds()}
}

// appendState records state in history unless it is unset or already the
// last entry.
func appendState(h []*pb.PipelineTask_TaskStatus, state pb.PipelineTask_TaskState, now int64) []*pb.PipelineTask_TaskStatus {
	if state == pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED {
		return h
	}
	if n := len(h); n > 0 && h[n-1].GetState() == state {
		return h
	}
	return append(h, &pb.PipelineTask_TaskStatus{UpdateTime: &timestamppb.Timestamp{Seconds: now}, State: state})
}

// checkParent: a parent that is named must be a task of the same run.
func (s *Server) checkParent(parent *string, runID string) error {
	if parent == nil || *parent == "" {
		return nil
	}
	p := s.tasks[*parent]
	if p == nil {
		return notFound("parent task", *parent)
	}
	if p.task.GetRunId() != runID {
		return invalid("parent task %q belongs to run %q, not %q", *parent, p.task.GetRunId(), runID)
	}
	return nil
}

// GetTask answers a task of the run, with its children and artifacts.
func (s *Server) GetTask(_ context.Context, req *pb.GetTaskRequest) (*pb.PipelineTask, error) {
	if req.GetRunId() == "" || req.GetTaskId() == "" {
		return nil, invalid("run_id and task_id are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.taskOf(req.GetTaskId(), req.GetRunId())
	if err != nil {
		return nil, err
	}
	return s.view(rec, true, true), nil
}

func (s *Server) taskOf(taskID, runID string) (*taskRecord, error) {
	rec := s.tasks[taskID]
	if rec == nil {
		return nil, notFound("task", taskID)
	}
	if rec.task.GetRunId() != runID {
		return nil, invalid("task %q belongs to run %q, not %q", taskID, rec.task.GetRunId(), runID)
	}
	return rec, nil
}

// tasksOfRun lists a run's tasks by create time, then insertion.
func (s *Server) tasksOfRun(runID string) []*taskRecord {
	var out []*taskRecord
	for _, r := range s.taskList {
		if r.task.GetRunId() == runID {
			out = append(out, r)
		}
	}
	sortByCreate(out, false)
	return out
}

// view copies a stored task for an answer: with its children (KFP lists
// them on Get, Update, List and in a run, not on Create or FindCachedTask)
// and with its artifact links (not on Create).
func (s *Server) view(r *taskRecord, children, artifacts bool) *pb.PipelineTask {
	c := proto.Clone(r.task).(*pb.PipelineTask)
	// KFP always answers both, if empty.
	if c.Inputs == nil {
		c.Inputs = &pb.PipelineTask_InputOutputs{}
	}
	if c.Outputs == nil {
		c.Outputs = &pb.PipelineTask_InputOutputs{}
	}
	if children {
		var kids []*taskRecord
		for _, k := range s.byParent[r.task.GetTaskId()] {
			if k.task.GetRunId() == r.task.GetRunId() {
				kids = append(kids, k)
			}
		}
		sortByCreate(kids, false)
		for _, k := range kids {
			c.ChildTasks = append(c.ChildTasks, &pb.PipelineTask_ChildTask{TaskId: k.task.GetTaskId(), Name: k.task.GetName()})
		}
	}
	if artifacts {
		c.Inputs.Artifacts, c.Outputs.Artifacts = s.taskArtifacts(r.task)
	}
	return c
}

// adopt files rec under its parent; disown takes it out again (an update
// moves a task to another parent).
func (s *Server) adopt(rec *taskRecord) {
	if p := rec.task.GetParentTaskId(); p != "" {
		s.byParent[p] = append(s.byParent[p], rec)
	}
}

func (s *Server) disown(rec *taskRecord) {
	p := rec.task.GetParentTaskId()
	s.byParent[p] = slices.DeleteFunc(s.byParent[p], func(r *taskRecord) bool { return r == rec })
}
