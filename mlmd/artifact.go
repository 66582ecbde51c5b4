package mlmd

import (
	"context"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"
)

// LinkedArtifact is an artifact as an execution sees it: under the event
// path key (input or output name) of the event that links them.
type LinkedArtifact struct {
	Event    pb.Event_Type
	Keys     []string // usually one; see eventPairs
	Artifact *pb.Artifact
}

// Artifacts returns, per execution, the artifacts linked to it by INPUT and
// OUTPUT events, in event order. Two round trips for any number of
// executions (one when they have no events).
func (c *Client) Artifacts(ctx context.Context, execIDs ...int64) (map[int64][]LinkedArtifact, error) {
	out := map[int64][]LinkedArtifact{}
	if len(execIDs) == 0 {
		return out, nil
	}
	er, err := c.svc.GetEventsByExecutionIDs(ctx, &pb.GetEventsByExecutionIDsRequest{ExecutionIds: execIDs})
	if err != nil {
		return nil, fmt.Errorf("reading events of executions %v: %w", execIDs, err)
	}
	var events []*pb.Event
	var ids []int64
	for _, ev := range er.GetEvents() {
		if t := ev.GetType(); t == pb.Event_INPUT || t == pb.Event_OUTPUT {
			events = append(events, ev)
			ids = append(ids, ev.GetArtifactId())
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	ar, err := c.svc.GetArtifactsByID(ctx, &pb.GetArtifactsByIDRequest{ArtifactIds: ids})
	if err != nil {
		return nil, fmt.Errorf("reading artifacts %v: %w", ids, err)
	}
	byID := map[int64]*pb.Artifact{}
	for _, a := range ar.GetArtifacts() {
		byID[a.GetId()] = a
	}
	for _, ev := range events {
		a, ok := byID[ev.GetArtifactId()]
		if !ok {
			return nil, fmt.Errorf("artifact %d of execution %d not found in MLMD", ev.GetArtifactId(), ev.GetExecutionId())
		}
		out[ev.GetExecutionId()] = append(out[ev.GetExecutionId()], LinkedArtifact{Event: ev.GetType(), Keys: eventKeys(ev), Artifact: a})
	}
	return out, nil
}

func eventKeys(ev *pb.Event) []string {
	var keys []string
	for _, s := range ev.GetPath().GetSteps() {
		if k := s.GetKey(); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// PutArtifacts registers new artifacts of one type and returns their IDs.
// The launcher does this; the driver's test stand-in uses it. One round trip
// (plus one type upsert per type and client lifetime).
func (c *Client) PutArtifacts(ctx context.Context, typeName string, arts ...*pb.Artifact) ([]int64, error) {
	typeID, err := c.typeID(ctx, artifactKind, typeName)
	if err != nil {
		return nil, err
	}
	for _, a := range arts {
		a.TypeId = proto.Int64(typeID)
	}
	r, err := c.svc.PutArtifacts(ctx, &pb.PutArtifactsRequest{Artifacts: arts})
	if err != nil {
		return nil, fmt.Errorf("registering %d %s artifacts: %w", len(arts), typeName, err)
	}
	return r.GetArtifactIds(), nil
}

// OutputRefs returns the artifacts an execution output, by event key,
// without reading the artifacts themselves (a cache hit only links them).
// One round trip.
func (c *Client) OutputRefs(ctx context.Context, execID int64) ([]ArtifactRef, error) {
	er, err := c.svc.GetEventsByExecutionIDs(ctx, &pb.GetEventsByExecutionIDsRequest{ExecutionIds: []int64{execID}})
	if err != nil {
		return nil, fmt.Errorf("reading events of execution %d: %w", execID, err)
	}
	var refs []ArtifactRef
	for _, ev := range er.GetEvents() {
		if ev.GetType() != pb.Event_OUTPUT {
			continue
		}
		for _, k := range eventKeys(ev) {
			refs = append(refs, ArtifactRef{Key: k, ArtifactID: ev.GetArtifactId()})
		}
	}
	return refs, nil
}
