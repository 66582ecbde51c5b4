package mlmdserver_test

import (
	"context"
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver/mlmdservertest"
)

// env is one fresh server and a gRPC client of it. Every contract test
// talks to the server over real gRPC on loopback.
type env struct {
	t   *testing.T
	srv *mlmdserver.Server
	c   mlmd.MetadataStoreServiceClient
	ctx context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	r := mlmdservertest.StartTest(t)
	return &env{t: t, srv: r.Server, c: mlmdservertest.NewClient(t, r), ctx: t.Context()}
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got code %v (%v), want %v", got, err, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func strV(s string) *mlmd.Value { return &mlmd.Value{Value: &mlmd.Value_StringValue{StringValue: s}} }
func intV(i int64) *mlmd.Value  { return &mlmd.Value{Value: &mlmd.Value_IntValue{IntValue: i}} }

func (e *env) contextType(name string) int64 {
	e.t.Helper()
	resp := must[*mlmd.PutContextTypeResponse](e.t)(e.c.PutContextType(e.ctx, &mlmd.PutContextTypeRequest{
		ContextType: &mlmd.ContextType{Name: proto.String(name)},
	}))
	return resp.GetTypeId()
}

func (e *env) executionType(name string) int64 {
	e.t.Helper()
	resp := must[*mlmd.PutExecutionTypeResponse](e.t)(e.c.PutExecutionType(e.ctx, &mlmd.PutExecutionTypeRequest{
		ExecutionType: &mlmd.ExecutionType{Name: proto.String(name)},
	}))
	return resp.GetTypeId()
}

func (e *env) artifactType(name string) int64 {
	e.t.Helper()
	resp := must[*mlmd.PutArtifactTypeResponse](e.t)(e.c.PutArtifactType(e.ctx, &mlmd.PutArtifactTypeRequest{
		ArtifactType: &mlmd.ArtifactType{Name: proto.String(name)},
	}))
	return resp.GetTypeId()
}

func (e *env) newContext(typeID int64, name string) int64 {
	e.t.Helper()
	resp := must[*mlmd.PutContextsResponse](e.t)(e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{
		Contexts: []*mlmd.Context{{TypeId: proto.Int64(typeID), Name: proto.String(name)}},
	}))
	return resp.GetContextIds()[0]
}

func (e *env) newArtifact(typeID int64, uri string) int64 {
	e.t.Helper()
	resp := must[*mlmd.PutArtifactsResponse](e.t)(e.c.PutArtifacts(e.ctx, &mlmd.PutArtifactsRequest{
		Artifacts: []*mlmd.Artifact{{TypeId: proto.Int64(typeID), Uri: proto.String(uri)}},
	}))
	return resp.GetArtifactIds()[0]
}

// putExecution records an execution in the given contexts, the way the KFP
// driver does, and returns its id.
func (e *env) putExecution(ex *mlmd.Execution, contexts ...int64) int64 {
	e.t.Helper()
	req := &mlmd.PutExecutionRequest{Execution: ex}
	for _, id := range contexts {
		req.Contexts = append(req.Contexts, e.getContext(id))
	}
	return must[*mlmd.PutExecutionResponse](e.t)(e.c.PutExecution(e.ctx, req)).GetExecutionId()
}

func (e *env) getContext(id int64) *mlmd.Context {
	e.t.Helper()
	resp := must[*mlmd.GetContextsByIDResponse](e.t)(e.c.GetContextsByID(e.ctx, &mlmd.GetContextsByIDRequest{ContextIds: []int64{id}}))
	if len(resp.GetContexts()) != 1 {
		e.t.Fatalf("context %d not found", id)
	}
	return resp.GetContexts()[0]
}

func (e *env) getExecution(id int64) *mlmd.Execution {
	e.t.Helper()
	resp := must[*mlmd.GetExecutionsByIDResponse](e.t)(e.c.GetExecutionsByID(e.ctx, &mlmd.GetExecutionsByIDRequest{ExecutionIds: []int64{id}}))
	if len(resp.GetExecutions()) != 1 {
		e.t.Fatalf("execution %d not found", id)
	}
	return resp.GetExecutions()[0]
}

func idsOf[T interface{ GetId() int64 }](nodes []T) []int64 {
	ids := []int64{}
	for _, n := range nodes {
		ids = append(ids, n.GetId())
	}
	return ids
}
