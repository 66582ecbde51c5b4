package flow

import (
	"context"
	"strconv"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// taskReader reads one task of a run (the native backend).
type taskReader interface {
	Task(ctx context.Context, runID, id string) (record.Task, error)
}

// nativeLoopChild maps KFP master's loop calls onto this driver's records.
// KFP master's compiled workflows make no per-iteration DAG call: the
// tasks of iteration i are called with the loop task as parent and
// iteration_index i, and the index is passed on to everything below. This
// driver keeps iterations as KFP 2.x does, one DAG task per iteration
// under the loop, holding the item: such a call first makes (or finds) the
// iteration's task, then runs below it. Below an iteration the index says
// nothing more and is dropped. A KFP 2.x style iteration call (the loop's
// own name under the loop) is left as it is.
func (s *Service) nativeLoopChild(ctx context.Context, b record.Backend, req *driver.Request) (*driver.Request, error) {
	tr, ok := b.(taskReader)
	if req.Line != driver.LineNative || req.Type == driver.RootDAG || req.IterationIndex < 0 || !ok {
		return req, nil
	}
	parent, err := tr.Task(ctx, req.RunID, req.ParentTaskID)
	if err != nil {
		return nil, err
	}
	out := *req
	out.IterationIndex = -1
	if _, loop := parent.IterationCount(); !loop {
		return &out, nil
	}
	if req.Type == driver.DAG && req.TaskName == parent.TaskName() {
		return req, nil
	}
	iter := driver.Request{Type: driver.DAG, Namespace: req.Namespace, WorkflowName: req.WorkflowName, WorkflowUID: req.WorkflowUID,
		PipelineName: req.PipelineName, RunID: req.RunID, RunName: req.RunName, RunDisplayName: req.RunDisplayName,
		PipelineJobCreateTime: req.PipelineJobCreateTime, ScheduleTimeEpochSecs: req.ScheduleTimeEpochSecs,
		TaskName: parent.TaskName(), IterationIndex: req.IterationIndex, Line: req.Line, ParentTaskID: req.ParentTaskID, Options: req.Options}
	// Sibling calls arrive together: one of them writes the iteration's
	// task (and links its item), the others take its ID.
	key := req.RunID + "/" + req.ParentTaskID + "/" + strconv.Itoa(req.IterationIndex)
	id, err, _ := s.iterationCalls.Do(key, func() (any, error) {
		if id, ok := s.iterations.Load(key); ok {
			return id, nil
		}
		res, err := s.dag(ctx, b, &iter)
		if err != nil {
			return nil, err
		}
		s.iterations.Store(key, res.TaskID)
		return res.TaskID, nil
	})
	if err != nil {
		return nil, err
	}
	out.ParentTaskID = id.(string)
	return &out, nil
}
