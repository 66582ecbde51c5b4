package mlmdserver_test

import (
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
)

func TestSetUnavailable(t *testing.T) {
	e := newEnv(t)
	e.srv.SetUnavailable(true)
	_, err := e.c.PutContextType(e.ctx, &mlmd.PutContextTypeRequest{ContextType: &mlmd.ContextType{Name: proto.String("t")}})
	wantCode(t, err, codes.Unavailable)
	_, err = e.c.GetContexts(e.ctx, &mlmd.GetContextsRequest{})
	wantCode(t, err, codes.Unavailable)
	// The refused write did not happen.
	e.srv.SetUnavailable(false)
	_, err = e.c.GetContextType(e.ctx, &mlmd.GetContextTypeRequest{TypeName: proto.String("t")})
	wantCode(t, err, codes.NotFound)
	if calls := e.srv.Calls(); calls["PutContextType"] != 1 || calls["GetContexts"] != 1 || calls["GetContextType"] != 1 {
		t.Errorf("Calls() = %v, want refused calls counted too", calls)
	}
}

func TestFailNext(t *testing.T) {
	e := newEnv(t)
	e.srv.FailNext("GetContexts", codes.Aborted, 2)
	for i, want := range []codes.Code{codes.Aborted, codes.Aborted, codes.OK} {
		_, err := e.c.GetContexts(e.ctx, &mlmd.GetContextsRequest{})
		if i < 2 {
			wantCode(t, err, want)
		} else if err != nil {
			t.Fatalf("call %d after the injected faults: %v", i, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("FailNext of an unknown method did not panic")
		}
	}()
	e.srv.FailNext("NoSuchMethod", codes.Aborted, 1)
}

func TestCallsAndResetCalls(t *testing.T) {
	e := newEnv(t)
	typeID := e.contextType("system.Pipeline")
	e.contextType("system.Pipeline")
	e.newContext(typeID, "p")
	got := e.srv.Calls()
	if got["PutContextType"] != 2 || got["PutContexts"] != 1 || len(got) != 2 {
		t.Fatalf("Calls() = %v, want PutContextType:2 PutContexts:1", got)
	}
	got["PutContexts"] = 100 // a copy: must not affect the server
	e.srv.ResetCalls()
	if got := e.srv.Calls(); len(got) != 0 {
		t.Fatalf("Calls() after ResetCalls = %v, want empty", got)
	}
}

func TestLineageRPCsAreUnimplemented(t *testing.T) {
	e := newEnv(t)
	_, err := e.c.GetLineageGraph(e.ctx, &mlmd.GetLineageGraphRequest{})
	wantCode(t, err, codes.Unimplemented)
	_, err = e.c.GetLineageSubgraph(e.ctx, &mlmd.GetLineageSubgraphRequest{})
	wantCode(t, err, codes.Unimplemented)
	_, err = e.c.PutLineageSubgraph(e.ctx, &mlmd.PutLineageSubgraphRequest{})
	wantCode(t, err, codes.Unimplemented)
}

func TestStartStopWait(t *testing.T) {
	r, err := mlmdserver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := r.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := mlmd.NewMetadataStoreServiceClient(conn)
	if _, err := c.GetContextTypes(t.Context(), &mlmd.GetContextTypesRequest{}); err != nil {
		t.Fatalf("call to %s: %v", r.Addr, err)
	}
	r.Stop()
	r.Stop() // idempotent
	if err := r.Wait(); err != nil {
		t.Fatalf("Wait after Stop = %v, want nil", err)
	}
	if _, err := c.GetContextTypes(t.Context(), &mlmd.GetContextTypesRequest{}); err == nil {
		t.Fatal("call after Stop succeeded")
	}
	if _, err := mlmdserver.Start("256.0.0.1:0"); err == nil {
		t.Fatal("Start on a bad address succeeded")
	}
}
