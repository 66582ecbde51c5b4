// Package kfpapi is the driver's client of the KFP API server's v2beta1
// task, artifact, run and pipeline-version APIs (KFP master's native line):
// per-call deadlines, a bearer token per run, round trips counted, errors
// naming the method. The wire types are in kfpapi/proto.
package kfpapi

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// DefaultTimeout bounds each call.
const DefaultTimeout = 10 * time.Second

// BoundRunHeader tells the API server which run a run-scoped token is for
// (it refuses cache lookups for runs outside the token's namespace).
const BoundRunHeader = "x-kfp-bound-run-id"

// TokenSource returns the bearer token for calls about runID; "" sends
// none (a single-user install without authentication).
type TokenSource func(ctx context.Context, runID string) (string, error)

// Client calls one API server. Safe for concurrent use.
type Client struct {
	addr      string
	runs      pb.RunServiceClient
	artifacts pb.ArtifactServiceClient
	pipelines pb.PipelineServiceClient
	token     TokenSource
	timeout   time.Duration
	calls     atomic.Int64
}

// New returns a client over conn; token may be nil.
func New(conn grpc.ClientConnInterface, addr string, token TokenSource) *Client {
	return &Client{addr: addr, runs: pb.NewRunServiceClient(conn), artifacts: pb.NewArtifactServiceClient(conn),
		pipelines: pb.NewPipelineServiceClient(conn), token: token, timeout: DefaultTimeout}
}

// Calls counts the round trips made so far.
func (c *Client) Calls() int64 { return c.calls.Load() }

// call runs one RPC about runID with a deadline and the run's token.
func call[Req, Resp any](ctx context.Context, c *Client, runID, method string, req Req, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error)) (Resp, error) {
	var zero Resp
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.token != nil {
		tok, err := c.token(ctx, runID)
		if err != nil {
			return zero, fmt.Errorf("ml-pipeline %s: %s: token for run %s: %w", c.addr, method, runID, err)
		}
		if tok != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		}
	}
	if runID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, BoundRunHeader, runID)
	}
	c.calls.Add(1)
	out, err := rpc(ctx, req)
	if err != nil {
		return zero, fmt.Errorf("ml-pipeline %s: %s: %w", c.addr, method, err)
	}
	return out, nil
}

// GetRun reads a run (DEFAULT view: no tasks).
func (c *Client) GetRun(ctx context.Context, runID string) (*pb.Run, error) {
	return call(ctx, c, runID, "GetRun", &pb.GetRunRequest{RunId: runID}, c.runs.GetRun)
}

// GetPipelineVersion reads the pipeline version a run was created from.
func (c *Client) GetPipelineVersion(ctx context.Context, runID string, ref *pb.PipelineVersionReference) (*pb.PipelineVersion, error) {
	return call(ctx, c, runID, "GetPipelineVersion", &pb.GetPipelineVersionRequest{
		PipelineId: ref.GetPipelineId(), PipelineVersionId: ref.GetPipelineVersionId()}, c.pipelines.GetPipelineVersion)
}

// CreateTask creates a task; the server answers an equal task (same run,
// parent, scope path, name, type and iteration) with the stored one.
func (c *Client) CreateTask(ctx context.Context, t *pb.PipelineTask) (*pb.PipelineTask, error) {
	return call(ctx, c, t.GetRunId(), "CreateTask", &pb.CreateTaskRequest{Task: t, RunId: t.GetRunId()}, c.runs.CreateTask)
}

// UpdateTask merges t into the stored task.
func (c *Client) UpdateTask(ctx context.Context, t *pb.PipelineTask) (*pb.PipelineTask, error) {
	return call(ctx, c, t.GetRunId(), "UpdateTask", &pb.UpdateTaskRequest{TaskId: t.GetTaskId(), Task: t, RunId: t.GetRunId()}, c.runs.UpdateTask)
}

// GetTask reads a task of runID.
func (c *Client) GetTask(ctx context.Context, runID, taskID string) (*pb.PipelineTask, error) {
	return call(ctx, c, runID, "GetTask", &pb.GetTaskRequest{TaskId: taskID, RunId: runID}, c.runs.GetTask)
}

// Children lists the tasks whose parent is one of parents, only those
// named names when names are given: one listing (every page) however many
// parents, filtered by the server.
func (c *Client) Children(ctx context.Context, runID string, parents []string, names ...string) ([]*pb.PipelineTask, error) {
	req := &pb.ListTasksRequest{RunId: runID, PageSize: 200}
	var preds []*pb.Predicate
	if len(parents) == 1 {
		req.ParentFilter = &pb.ListTasksRequest_ParentId{ParentId: parents[0]}
	} else {
		preds = append(preds, in("parent_task_id", parents))
	}
	if len(names) > 0 {
		preds = append(preds, in("name", names))
	}
	if len(preds) > 0 {
		f, err := encodeFilter(&pb.Filter{Predicates: preds})
		if err != nil {
			return nil, err
		}
		req.Filter = f
	}
	var all []*pb.PipelineTask
	for {
		resp, err := call(ctx, c, runID, "ListTasks", req, c.runs.ListTasks)
		if err != nil {
			return nil, err
		}
		all = append(all, resp.GetTasks()...)
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return all, nil
		}
	}
}

func in(key string, values []string) *pb.Predicate {
	return &pb.Predicate{Key: key, Operation: pb.Predicate_IN,
		Value: &pb.Predicate_StringValues_{StringValues: &pb.Predicate_StringValues{Values: values}}}
}

// encodeFilter renders a filter as KFP's list requests carry it: its
// JSON, URL query escaped (the server unescapes first).
func encodeFilter(f *pb.Filter) (string, error) {
	b, err := protojson.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("encoding task filter: %w", err)
	}
	return url.QueryEscape(string(b)), nil
}

// FindCachedTask finds the newest succeeded task with fingerprint fp in
// namespace; nil when there is none.
func (c *Client) FindCachedTask(ctx context.Context, runID, namespace, fp string) (*pb.PipelineTask, error) {
	resp, err := call(ctx, c, runID, "FindCachedTask", &pb.FindCachedTaskRequest{Namespace: namespace, CacheFingerprint: fp}, c.runs.FindCachedTask)
	if err != nil {
		return nil, err
	}
	return resp.GetTask(), nil
}

// LinkArtifacts links artifacts to tasks as inputs or outputs.
func (c *Client) LinkArtifacts(ctx context.Context, runID string, links []*pb.ArtifactTask) error {
	if len(links) == 0 {
		return nil
	}
	_, err := call(ctx, c, runID, "CreateArtifactTasksBulk", &pb.CreateArtifactTasksBulkRequest{ArtifactTasks: links}, c.artifacts.CreateArtifactTasksBulk)
	return err
}

// CreateArtifacts creates output artifacts of tasks of runID, all or
// nothing; the server links each to its task by producer key.
func (c *Client) CreateArtifacts(ctx context.Context, runID string, reqs []*pb.CreateArtifactRequest) ([]*pb.Artifact, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	resp, err := call(ctx, c, runID, "CreateArtifactsBulk", &pb.CreateArtifactsBulkRequest{Artifacts: reqs}, c.artifacts.CreateArtifactsBulk)
	return resp.GetArtifacts(), err
}

// CreateArtifact creates one output artifact (reuse_if_exists is only
// honoured here, not in bulk).
func (c *Client) CreateArtifact(ctx context.Context, req *pb.CreateArtifactRequest) (*pb.Artifact, error) {
	return call(ctx, c, req.GetRunId(), "CreateArtifact", req, c.artifacts.CreateArtifact)
}
