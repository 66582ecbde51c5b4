package mlmdserver

import (
	"cmp"
	"context"
	"slices"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
)

// eventKey is MLMD's unique key for events: one event per (artifact,
// execution, type). An execution reading the same artifact twice as INPUT
// is therefore ALREADY_EXISTS, in MLMD as here.
type eventKey struct {
	artifactID, executionID int64
	typ                     mlmd.Event_Type
}

type storedEvent struct {
	seq int64 // insertion order, MLMD's event id
	ev  *mlmd.Event
}

// eventLog stores events, indexed by both ends.
type eventLog struct {
	j           *journal
	lastSeq     int64
	keys        map[eventKey]struct{}
	byExecution map[int64][]storedEvent
	byArtifact  map[int64][]storedEvent
}

func newEventLog(j *journal) *eventLog {
	return &eventLog{j: j, keys: map[eventKey]struct{}{}, byExecution: map[int64][]storedEvent{}, byArtifact: map[int64][]storedEvent{}}
}

func keyOf(ev *mlmd.Event) eventKey {
	return eventKey{ev.GetArtifactId(), ev.GetExecutionId(), ev.GetType()}
}

// add appends ev. Undo pops it again, which is correct because the journal
// undoes in reverse order.
func (l *eventLog) add(ev *mlmd.Event) {
	l.lastSeq++
	se := storedEvent{seq: l.lastSeq, ev: ev}
	key := keyOf(ev)
	l.keys[key] = struct{}{}
	l.byExecution[key.executionID] = append(l.byExecution[key.executionID], se)
	l.byArtifact[key.artifactID] = append(l.byArtifact[key.artifactID], se)
	l.j.record(func() {
		delete(l.keys, key)
		l.byExecution[key.executionID] = dropLast(l.byExecution[key.executionID])
		l.byArtifact[key.artifactID] = dropLast(l.byArtifact[key.artifactID])
	})
}

func dropLast(s []storedEvent) []storedEvent {
	s[len(s)-1] = storedEvent{}
	return s[:len(s)-1]
}

// collect returns copies of the events of the given ids, in event order.
func collect(index map[int64][]storedEvent, ids []int64) []*mlmd.Event {
	var found []storedEvent
	for _, id := range uniqueSorted(ids) {
		found = append(found, index[id]...)
	}
	slices.SortFunc(found, func(a, b storedEvent) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]*mlmd.Event, 0, len(found))
	for _, se := range found {
		out = append(out, cloneOf(se.ev))
	}
	return out
}

// insertEvent is MLMD's CreateEvent: both ends and the type are required,
// both ends must exist, and the (artifact, execution, type) key is unique.
func (st *store) insertEvent(ev *mlmd.Event) error {
	switch {
	case !has(ev, "artifact_id"):
		return errorf(codes.InvalidArgument, "event has no artifact_id")
	case !has(ev, "execution_id"):
		return errorf(codes.InvalidArgument, "event has no execution_id")
	case ev.GetType() == mlmd.Event_UNKNOWN:
		return errorf(codes.InvalidArgument, "event has no type")
	}
	if _, ok := st.artifacts.get(ev.GetArtifactId()); !ok {
		return errorf(codes.InvalidArgument, "event refers to artifact %d, which does not exist", ev.GetArtifactId())
	}
	if _, ok := st.executions.get(ev.GetExecutionId()); !ok {
		return errorf(codes.InvalidArgument, "event refers to execution %d, which does not exist", ev.GetExecutionId())
	}
	if _, dup := st.events.keys[keyOf(ev)]; dup {
		return errorf(codes.AlreadyExists, "%v event for artifact %d and execution %d already exists",
			ev.GetType(), ev.GetArtifactId(), ev.GetExecutionId())
	}
	row := cloneOf(ev)
	clearField(row, fieldSystemMetadata)
	if !has(row, "milliseconds_since_epoch") {
		setInt64(row, "milliseconds_since_epoch", st.clock.tick())
	}
	st.events.add(row)
	return nil
}

// PutEvents inserts events atomically.
func (s *Server) PutEvents(_ context.Context, req *mlmd.PutEventsRequest) (*mlmd.PutEventsResponse, error) {
	err := s.write(func(st *store) error {
		for i, ev := range req.GetEvents() {
			if err := st.insertEvent(ev); err != nil {
				return wrap(err, "events[%d]", i)
			}
		}
		return nil
	})
	return answer(&mlmd.PutEventsResponse{}, err, "PutEvents")
}

// GetEventsByExecutionIDs returns the events of the executions; unknown ids
// contribute nothing.
func (s *Server) GetEventsByExecutionIDs(_ context.Context, req *mlmd.GetEventsByExecutionIDsRequest) (*mlmd.GetEventsByExecutionIDsResponse, error) {
	resp := &mlmd.GetEventsByExecutionIDsResponse{}
	err := s.read(func(st *store) error {
		resp.Events = collect(st.events.byExecution, req.GetExecutionIds())
		return nil
	})
	return answer(resp, err, "GetEventsByExecutionIDs")
}

// GetEventsByArtifactIDs returns the events of the artifacts; unknown ids
// contribute nothing.
func (s *Server) GetEventsByArtifactIDs(_ context.Context, req *mlmd.GetEventsByArtifactIDsRequest) (*mlmd.GetEventsByArtifactIDsResponse, error) {
	resp := &mlmd.GetEventsByArtifactIDsResponse{}
	err := s.read(func(st *store) error {
		resp.Events = collect(st.events.byArtifact, req.GetArtifactIds())
		return nil
	})
	return answer(resp, err, "GetEventsByArtifactIDs")
}
