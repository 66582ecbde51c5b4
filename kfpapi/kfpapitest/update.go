package kfpapitest

import (
	"context"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// UpdateTask merges req.task into the stored task (see merge).
func (s *Server) UpdateTask(_ context.Context, req *pb.UpdateTaskRequest) (*pb.PipelineTask, error) {
	runID, taskID, t := req.GetRunId(), req.GetTaskId(), req.GetTask()
	switch {
	case runID == "" || taskID == "":
		return nil, invalid("run_id and task_id are required")
	case t == nil:
		return nil, invalid("task is required")
	}
	if err := checkBody(taskID, runID, t); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.taskOf(taskID, runID)
	if err != nil {
		return nil, err
	}
	if err := s.checkParent(t.ParentTaskId, runID); err != nil {
		return nil, err
	}
	s.merge(rec, t)
	return s.view(rec, true, true), nil
}

// UpdateTasksBulk merges several tasks of one run. Every task is checked
// before any is changed, so a refused request changes nothing (KFP checks
// parents while updating and may stop half way; a client must not rely on
// either).
func (s *Server) UpdateTasksBulk(_ context.Context, req *pb.UpdateTasksBulkRequest) (*pb.UpdateTasksBulkResponse, error) {
	runID := req.GetRunId()
	switch {
	case len(req.GetTasks()) == 0:
		return nil, invalid("at least one task is required")
	case runID == "":
		return nil, invalid("run_id is required")
	}
	ids := make([]string, 0, len(req.GetTasks()))
	for id, t := range req.GetTasks() {
		if id == "" || t == nil {
			return nil, invalid("task ids and tasks are required")
		}
		if err := checkBody(id, runID, t); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	// KFP applies them in id order.
	slices.Sort(ids)
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]*taskRecord, len(ids))
	for i, id := range ids {
		rec, err := s.taskOf(id, runID)
		if err != nil {
			return nil, err
		}
		if err := s.checkParent(req.GetTasks()[id].ParentTaskId, runID); err != nil {
			return nil, err
		}
		recs[i] = rec
	}
	out := &pb.UpdateTasksBulkResponse{Tasks: map[string]*pb.PipelineTask{}}
	for i, id := range ids {
		s.merge(recs[i], req.GetTasks()[id])
	}
	for i, id := range ids {
		out.Tasks[id] = s.view(recs[i], true, true)
	}
	return out, nil
}

// checkBody: ids in the task body, when set, must agree with the request's.
func checkBody(taskID, runID string, t *pb.PipelineTask) error {
	if t.GetTaskId() != "" && t.GetTaskId() != taskID {
		return invalid("task body task_id %q differs from %q", t.GetTaskId(), taskID)
	}
	if t.GetRunId() != "" && t.GetRunId() != runID {
		return invalid("task body run_id %q differs from run_id %q", t.GetRunId(), runID)
	}
	return nil
}

// merge applies KFP's update rules (its TaskStore.UpdateTask): a field
// that is unset or empty on the wire keeps the stored value; strings,
// state, type, end time, pods, status metadata and type attributes are
// replaced; parameters are merged by identity (mergeParameters); a state
// change appends to state_history. Create time, scope path, the client's
// state_history, child tasks and artifacts are never taken from an
// update. An empty parent_task_id detaches the task.
func (s *Server) merge(rec *taskRecord, u *pb.PipelineTask) {
	t := rec.task
	if u.GetName() != "" {
		t.Name = u.GetName()
	}
	if u.GetDisplayName() != "" {
		t.DisplayName = u.GetDisplayName()
	}
	if u.GetCacheFingerprint() != "" {
		t.CacheFingerprint = u.GetCacheFingerprint()
	}
	if u.ParentTaskId != nil {
		s.disown(rec)
		t.ParentTaskId = u.ParentTaskId
		if u.GetParentTaskId() == "" {
			t.ParentTaskId = nil
		}
		s.adopt(rec)
	}
	if u.GetState() != pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED {
		t.State = u.GetState()
		t.StateHistory = appendState(t.StateHistory, u.GetState(), s.nowSeconds())
	}
	if u.GetType() != pb.PipelineTask_TASK_TYPE_UNSPECIFIED {
		t.Type = u.GetType()
	}
	if u.GetEndTime().GetSeconds() != 0 {
		t.EndTime = &timestamppb.Timestamp{Seconds: u.GetEndTime().GetSeconds()}
	}
	if u.GetStatusMetadata() != nil {
		t.StatusMetadata = proto.Clone(u.GetStatusMetadata()).(*pb.PipelineTask_StatusMetadata)
	}
	if len(u.GetPods()) > 0 {
		t.Pods = clonePods(u.GetPods())
	}
	if ps := u.GetInputs().GetParameters(); len(ps) > 0 {
		t.Inputs = &pb.PipelineTask_InputOutputs{Parameters: mergeParameters(t.GetInputs().GetParameters(), ps)}
	}
	if ps := u.GetOutputs().GetParameters(); len(ps) > 0 {
		t.Outputs = &pb.PipelineTask_InputOutputs{Parameters: mergeParameters(t.GetOutputs().GetParameters(), ps)}
	}
	if u.GetTypeAttributes() != nil {
		t.TypeAttributes = proto.Clone(u.GetTypeAttributes()).(*pb.PipelineTask_TypeAttributes)
	}
}

func clonePods(ps []*pb.PipelineTask_TaskPod) []*pb.PipelineTask_TaskPod {
	out := make([]*pb.PipelineTask_TaskPod, len(ps))
	for i, p := range ps {
		out[i] = proto.Clone(p).(*pb.PipelineTask_TaskPod)
	}
	return out
}
