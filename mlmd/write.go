package mlmd

import (
	"context"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"
)

// ArtifactRef links an execution to an artifact under an event path key
// (the input or output name).
type ArtifactRef struct {
	Key        string
	ArtifactID int64
}

// NewExecution is an execution to create.
type NewExecution struct {
	TypeName string
	Name     string // deterministic, see the package doc
	State    pb.Execution_State
	Props    map[string]*pb.Value
	Inputs   []ArtifactRef // INPUT events
	Outputs  []ArtifactRef // OUTPUT events (a cache hit reuses artifacts)
}

// CreateExecution writes the execution, its events and its associations to
// both run contexts in one atomic PutExecution. If an execution with that
// type and name exists already (a repeated call), nothing is written and the
// existing one is returned with created == false. One round trip (plus one
// type upsert per client lifetime, plus one read on a repeat).
func (c *Client) CreateExecution(ctx context.Context, run *Run, n NewExecution) (e *Execution, created bool, err error) {
	typeID, err := c.typeID(ctx, executionKind, n.TypeName)
	if err != nil {
		return nil, false, err
	}
	ex := &pb.Execution{
		Name: proto.String(n.Name), TypeId: proto.Int64(typeID),
		LastKnownState: n.State.Enum(), CustomProperties: n.Props,
	}
	req := &pb.PutExecutionRequest{
		Execution:          ex,
		Contexts:           run.contexts(),
		ArtifactEventPairs: eventPairs(n.Outputs, pb.Event_OUTPUT, eventPairs(n.Inputs, pb.Event_INPUT, nil)),
	}
	r, err := c.svc.PutExecution(ctx, req)
	if isAlreadyExists(err) {
		existing, lookupErr := c.ExecutionByName(ctx, n.TypeName, n.Name)
		if lookupErr == nil && existing == nil {
			lookupErr = fmt.Errorf("creating %s execution %q: %w", n.TypeName, n.Name, err)
		}
		return existing, false, lookupErr
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating %s execution %q: %w", n.TypeName, n.Name, err)
	}
	ex.Id = proto.Int64(r.GetExecutionId())
	c.mu.Lock()
	c.typeNames[typeID] = n.TypeName
	c.mu.Unlock()
	c.rememberMember(ex.GetId(), run) // written with the run's contexts just now
	return &Execution{Proto: ex, TypeName: n.TypeName}, true, nil
}

// UpdateExecution rewrites an existing execution (state, properties) and
// adds OUTPUT events, atomically, keeping it associated with the run. This is
// how KFP's launcher publishes; the driver's test stand-in uses it. One round
// trip.
func (c *Client) UpdateExecution(ctx context.Context, run *Run, e *pb.Execution, outputs []ArtifactRef) error {
	req := &pb.PutExecutionRequest{
		Execution:          e,
		Contexts:           run.contexts(),
		ArtifactEventPairs: eventPairs(outputs, pb.Event_OUTPUT, nil),
	}
	if _, err := c.svc.PutExecution(ctx, req); err != nil {
		return fmt.Errorf("updating execution %d: %w", e.GetId(), err)
	}
	return nil
}

// eventPairs links each artifact once per event type: MLMD allows one
// (artifact, execution, type) event. An artifact under several names (a
// ParallelFor iteration's item is also in the list it came from) gets one
// event whose path has a key step per name; KFP's readers see the first.
func eventPairs(refs []ArtifactRef, t pb.Event_Type, pairs []*pb.PutExecutionRequest_ArtifactAndEvent) []*pb.PutExecutionRequest_ArtifactAndEvent {
	byID := map[int64]*pb.Event{}
	for _, ref := range refs {
		if ev, ok := byID[ref.ArtifactID]; ok {
			ev.Path.Steps = append(ev.Path.Steps, keyPath(ref.Key).Steps...)
			continue
		}
		ev := &pb.Event{Type: t.Enum(), ArtifactId: proto.Int64(ref.ArtifactID), Path: keyPath(ref.Key)}
		byID[ref.ArtifactID] = ev
		// Event only: a pair with an artifact updates that artifact, and a
		// partial one would wipe its URI and properties.
		pairs = append(pairs, &pb.PutExecutionRequest_ArtifactAndEvent{Event: ev})
	}
	return pairs
}

func keyPath(key string) *pb.Event_Path {
	return &pb.Event_Path{Steps: []*pb.Event_Path_Step{{Value: &pb.Event_Path_Step_Key{Key: key}}}}
}
