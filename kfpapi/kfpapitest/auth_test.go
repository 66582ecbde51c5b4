package kfpapitest_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

func bearerCtx(token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func TestAuthentication(t *testing.T) {
	var runs []string
	auth := func(ctx context.Context, token string) (kfpapitest.Principal, error) {
		runs = append(runs, kfpapitest.RequestedRunID(ctx))
		switch token {
		case "broad":
			return kfpapitest.Principal{User: "admin"}, nil
		case "run-scoped":
			return kfpapitest.Principal{User: "sa", RunID: "run-1"}, nil
		}
		return kfpapitest.Principal{}, errors.New("unknown token")
	}
	c := dial(t, kfpapitest.Options{Authenticate: auth})
	c.srv.AddRun("ns", &pb.Run{RunId: "run-1"})
	c.srv.AddRun("ns", &pb.Run{RunId: "run-2"})

	_, err := c.run.GetRun(ctx, &pb.GetRunRequest{RunId: "run-1"})
	wantCode(t, "no token", err, codes.Unauthenticated)
	_, err = c.run.GetRun(metadata.AppendToOutgoingContext(ctx, "authorization", "Basic x"), &pb.GetRunRequest{RunId: "run-1"})
	wantCode(t, "not a bearer token", err, codes.Unauthenticated)
	_, err = c.run.GetRun(bearerCtx("forged"), &pb.GetRunRequest{RunId: "run-1"})
	wantCode(t, "refused token", err, codes.Unauthenticated)
	if _, err := c.run.GetRun(bearerCtx("run-scoped"), &pb.GetRunRequest{RunId: "run-1"}); err != nil {
		t.Errorf("run-scoped token on its run: %v", err)
	}
	_, err = c.run.GetRun(bearerCtx("run-scoped"), &pb.GetRunRequest{RunId: "run-2"})
	wantCode(t, "run-scoped token on another run", err, codes.PermissionDenied)
	_, err = c.art.GetArtifact(bearerCtx("run-scoped"), &pb.GetArtifactRequest{ArtifactId: "a"})
	wantCode(t, "run-scoped token on a call without run", err, codes.PermissionDenied)
	if _, err := c.run.GetRun(bearerCtx("broad"), &pb.GetRunRequest{RunId: "run-2"}); err != nil {
		t.Errorf("broad token: %v", err)
	}
	bound := metadata.AppendToOutgoingContext(bearerCtx("run-scoped"), kfpapitest.BoundRunIDMetadataKey, "run-1")
	if _, err := c.run.FindCachedTask(bound, &pb.FindCachedTaskRequest{Namespace: "ns", CacheFingerprint: "fp"}); err != nil {
		t.Errorf("cache lookup bound to the token's run: %v", err)
	}
	if want := []string{"run-1", "run-1", "run-2", "", "run-2", "run-1"}; len(runs) != len(want) || runs[len(runs)-1] != "run-1" || runs[3] != "" {
		t.Errorf("requested runs seen by the authenticator = %q, want %q", runs, want)
	}
	if n := c.srv.Calls(kfpapitest.MethodGetRun); n != 6 {
		t.Errorf("GetRun calls = %d, want 6 (refused ones count)", n)
	}
}
