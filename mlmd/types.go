package mlmd

import (
	"context"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"
)

// typeID returns the ID of a schemaless type, registering it on first use
// (one round trip per type and client lifetime: MLMD's Put*Type is an
// upsert that returns the existing ID).
func (c *Client) typeID(ctx context.Context, kind typeKind, name string) (int64, error) {
	k := typeKey{kind, name}
	if id, ok := c.cachedType(k); ok {
		return id, nil
	}
	if kind != artifactKind {
		if err := c.registerKFPTypes(ctx); err != nil {
			return 0, err
		}
		if id, ok := c.cachedType(k); ok {
			return id, nil
		}
	}
	id, err := c.putType(ctx, kind, name)
	if err != nil {
		return 0, fmt.Errorf("registering MLMD type %s: %w", name, err)
	}
	c.rememberType(k, id)
	return id, nil
}

func (c *Client) putType(ctx context.Context, kind typeKind, name string) (int64, error) {
	switch kind {
	case contextKind:
		r, err := c.svc.PutContextType(ctx, &pb.PutContextTypeRequest{ContextType: &pb.ContextType{Name: proto.String(name)}})
		return r.GetTypeId(), err
	case executionKind:
		r, err := c.svc.PutExecutionType(ctx, &pb.PutExecutionTypeRequest{ExecutionType: &pb.ExecutionType{Name: proto.String(name)}})
		return r.GetTypeId(), err
	default:
		r, err := c.svc.PutArtifactType(ctx, &pb.PutArtifactTypeRequest{ArtifactType: &pb.ArtifactType{Name: proto.String(name)}})
		return r.GetTypeId(), err
	}
}

// executionTypeNames fills the type name of each execution: from the
// server's own type field when it sends one, else from the IDs this client
// registered, else with one GetExecutionTypesByID for the unknown IDs.
func (c *Client) executionTypeNames(ctx context.Context, execs []*pb.Execution) (map[int64]string, error) {
	names := map[int64]string{}
	var unknown []int64
	c.mu.Lock()
	for _, e := range execs {
		id := e.GetTypeId()
		if _, done := names[id]; done {
			continue
		}
		switch {
		case e.GetType() != "":
			names[id] = e.GetType()
		case c.typeNames[id] != "":
			names[id] = c.typeNames[id]
		default:
			names[id] = ""
			unknown = append(unknown, id)
		}
	}
	c.mu.Unlock()
	if len(unknown) == 0 {
		return names, nil
	}
	r, err := c.svc.GetExecutionTypesByID(ctx, &pb.GetExecutionTypesByIDRequest{TypeIds: unknown})
	if err != nil {
		return nil, fmt.Errorf("reading execution types: %w", err)
	}
	for _, t := range r.GetExecutionTypes() {
		names[t.GetId()] = t.GetName()
		c.rememberType(typeKey{executionKind, t.GetName()}, t.GetId())
	}
	return names, nil
}

// RegisterTypes upserts the driver's four types in one PutTypes round trip,
// once per client; later calls cost nothing. Calling it early (concurrently
// with reads) takes it off a call's critical path.
func (c *Client) RegisterTypes(ctx context.Context) error { return c.registerKFPTypes(ctx) }

func (c *Client) registerKFPTypes(ctx context.Context) error {
	if _, ok := c.cachedType(typeKey{executionKind, ContainerExecutionType}); ok {
		return nil
	}
	req := &pb.PutTypesRequest{
		ContextTypes:   []*pb.ContextType{{Name: proto.String(PipelineContextType)}, {Name: proto.String(RunContextType)}},
		ExecutionTypes: []*pb.ExecutionType{{Name: proto.String(DAGExecutionType)}, {Name: proto.String(ContainerExecutionType)}},
	}
	r, err := c.svc.PutTypes(ctx, req)
	if err != nil {
		return fmt.Errorf("registering KFP's MLMD types: %w", err)
	}
	if len(r.GetContextTypeIds()) != 2 || len(r.GetExecutionTypeIds()) != 2 {
		return fmt.Errorf("registering KFP's MLMD types: MLMD returned %d and %d IDs for 2 and 2 types",
			len(r.GetContextTypeIds()), len(r.GetExecutionTypeIds()))
	}
	for i, t := range req.ContextTypes {
		c.rememberType(typeKey{contextKind, t.GetName()}, r.GetContextTypeIds()[i])
	}
	for i, t := range req.ExecutionTypes {
		c.rememberType(typeKey{executionKind, t.GetName()}, r.GetExecutionTypeIds()[i])
	}
	return nil
}
