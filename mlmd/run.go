package mlmd

import (
	"context"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"
)

// Run is a pipeline run's two contexts: the pipeline (named after the
// pipeline) and its run (named after the run ID), with the run properties
// the launcher reads. Immutable once created, hence cached per client.
type Run struct {
	ID              string
	PipelineName    string
	PipelineContext int64
	RunContext      int64
	// Properties of the run context.
	Namespace        string
	PipelineRoot     string
	StoreSessionInfo string

	// The contexts as stored: PutExecution updates the contexts it is
	// given, so it must get them whole, never just their IDs.
	stored []*pb.Context
}

// contexts is the pair attached to every execution of the run.
func (r *Run) contexts() []*pb.Context {
	return []*pb.Context{proto.Clone(r.stored[0]).(*pb.Context), proto.Clone(r.stored[1]).(*pb.Context)}
}

// RunSpec is what the root DAG driver knows about a new run.
type RunSpec struct {
	PipelineName     string
	RunID            string
	Namespace        string
	PipelineRoot     string // run-level root, already suffixed with /<pipeline>/<run>
	StoreSessionInfo string
}

// EnsureRun gets or creates the pipeline and run contexts and links them.
// An existing run context is reused unchanged (its properties are written
// once). Round trips: 2 type upserts (first time per client), 2 look-ups,
// up to 2 creations, 1 link.
func (c *Client) EnsureRun(ctx context.Context, s RunSpec) (*Run, error) {
	if r := c.cachedRun(s.PipelineName, s.RunID); r != nil {
		return r, nil
	}
	pipe, err := c.getOrCreateContext(ctx, PipelineContextType, s.PipelineName, nil)
	if err != nil {
		return nil, err
	}
	props := map[string]*pb.Value{
		PropNamespace:        StringValue(s.Namespace),
		PropResourceName:     StringValue("run-resource"), // KFP writes this constant
		PropPipelineRoot:     StringValue(s.PipelineRoot),
		PropStoreSessionInfo: StringValue(s.StoreSessionInfo),
	}
	run, err := c.getOrCreateContext(ctx, RunContextType, s.RunID, props)
	if err != nil {
		return nil, err
	}
	link := &pb.PutParentContextsRequest{ParentContexts: []*pb.ParentContext{{
		ChildId: run.Id, ParentId: pipe.Id,
	}}}
	if _, err := c.svc.PutParentContexts(ctx, link); err != nil && !isAlreadyExists(err) {
		return nil, fmt.Errorf("linking run context to pipeline context: %w", err)
	}
	return c.rememberRun(newRun(s.PipelineName, s.RunID, pipe, run)), nil
}

// RunOf returns an existing run's contexts after checking that execution
// execID (the parent DAG) is in it. The check is made on every call: a
// remembered run only saves the read when this execution was already
// verified to belong to it (or was created in it by this client), so the
// answer never depends on what the process served before. Otherwise one
// GetContextsByExecution. A run that does not exist is an error: only the
// root DAG driver creates runs.
func (c *Client) RunOf(ctx context.Context, pipelineName, runID string, execID int64) (*Run, error) {
	key := runKey{pipelineName, runID}
	if r := c.cachedRun(pipelineName, runID); r != nil && c.isMember(execID, key) {
		return r, nil
	}
	resp, err := c.svc.GetContextsByExecution(ctx, &pb.GetContextsByExecutionRequest{ExecutionId: &execID})
	if err != nil {
		return nil, fmt.Errorf("reading the contexts of execution %d: %w", execID, err)
	}
	var pipe, run *pb.Context
	for _, x := range resp.GetContexts() {
		switch {
		case x.GetName() == runID && x.GetType() != PipelineContextType && run == nil:
			run = x
		case x.GetName() == pipelineName && x.GetType() != RunContextType:
			pipe = x
		}
	}
	if pipe == nil || run == nil {
		return nil, fmt.Errorf("execution %d is not in run %q of pipeline %q (was the root DAG driver run?)", execID, runID, pipelineName)
	}
	r := c.cachedRun(pipelineName, runID)
	if r == nil {
		r = c.rememberRun(newRun(pipelineName, runID, pipe, run))
	}
	c.rememberMember(execID, r)
	return r, nil
}

func (c *Client) isMember(execID int64, key runKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.members[execID]
	return ok && got == key
}

func (c *Client) rememberMember(execID int64, r *Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.members) >= maxCachedDAGs {
		clear(c.members)
	}
	c.members[execID] = runKey{r.PipelineName, r.ID}
}

func newRun(pipelineName, runID string, pipe, run *pb.Context) *Run {
	p := run.GetCustomProperties()
	return &Run{
		ID: runID, PipelineName: pipelineName,
		PipelineContext: pipe.GetId(), RunContext: run.GetId(),
		Namespace:        stringProp(p, PropNamespace),
		PipelineRoot:     stringProp(p, PropPipelineRoot),
		StoreSessionInfo: stringProp(p, PropStoreSessionInfo),
		stored:           []*pb.Context{pipe, run},
	}
}

func (c *Client) contextByName(ctx context.Context, typeName, name string) (*pb.Context, error) {
	r, err := c.svc.GetContextByTypeAndName(ctx, &pb.GetContextByTypeAndNameRequest{
		TypeName: proto.String(typeName), ContextName: proto.String(name),
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s context %q: %w", typeName, name, err)
	}
	return r.GetContext(), nil
}

func (c *Client) getOrCreateContext(ctx context.Context, typeName, name string, props map[string]*pb.Value) (*pb.Context, error) {
	existing, err := c.contextByName(ctx, typeName, name)
	if err != nil || existing != nil {
		return existing, err
	}
	typeID, err := c.typeID(ctx, contextKind, typeName)
	if err != nil {
		return nil, err
	}
	created := &pb.Context{Name: proto.String(name), TypeId: proto.Int64(typeID), CustomProperties: props}
	r, err := c.svc.PutContexts(ctx, &pb.PutContextsRequest{Contexts: []*pb.Context{created}})
	if err == nil && len(r.GetContextIds()) == 1 {
		created.Id = proto.Int64(r.GetContextIds()[0])
		return created, nil
	}
	if err != nil && !isAlreadyExists(err) {
		return nil, fmt.Errorf("creating %s context %q: %w", typeName, name, err)
	}
	// A concurrent creator won: its context is the one everybody shares.
	existing, err = c.contextByName(ctx, typeName, name)
	if err == nil && existing == nil {
		err = fmt.Errorf("%s context %q vanished after creation", typeName, name)
	}
	return existing, err
}

func (c *Client) cachedRun(pipelineName, runID string) *Run {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[runKey{pipelineName, runID}]
}

func (c *Client) rememberRun(r *Run) *Run {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) >= maxCachedRuns {
		clear(c.runs)
	}
	c.runs[runKey{r.PipelineName, r.ID}] = r
	return r
}
