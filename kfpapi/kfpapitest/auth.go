package kfpapitest

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// Principal is who a bearer token authenticated as.
type Principal struct {
	// User is the authenticated user name, e.g.
	// "system:serviceaccount:<namespace>:<name>".
	User string
	// RunID is set when the token is valid only for one run (KFP's
	// run-scoped audience); such a principal may touch only that run.
	RunID string
}

// Authenticator checks a bearer token. ctx carries the run the call
// targets, if any (RequestedRunID), for run-scoped audiences. An error
// that is not a gRPC status answers Unauthenticated.
type Authenticator func(ctx context.Context, token string) (Principal, error)

type requestedRunKey struct{}
type principalKey struct{}

// RequestedRunID is the run the call being authenticated targets: its
// run_id field, or the bound-run metadata of FindCachedTask; "" for calls
// that name no run (GetArtifact, ListArtifacts, GetPipelineVersion).
func RequestedRunID(ctx context.Context) string {
	id, _ := ctx.Value(requestedRunKey{}).(string)
	return id
}

// PrincipalFrom is the principal of an authenticated call.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// authenticate applies Options.Authenticate to a call and returns the
// context the handler runs with.
func (s *Server) authenticate(ctx context.Context, req any) (context.Context, error) {
	if s.opts.Authenticate == nil {
		return ctx, nil
	}
	token, err := bearer(ctx)
	if err != nil {
		return nil, err
	}
	runID := requestRunID(ctx, req)
	ctx = context.WithValue(ctx, requestedRunKey{}, runID)
	p, err := s.opts.Authenticate(ctx, token)
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.Unauthenticated, "authentication failed: %v", err)
	}
	// KFP's run-bound tokens: any other run, or no run at all, is refused.
	if p.RunID != "" && p.RunID != runID {
		return nil, status.Errorf(codes.PermissionDenied, "token is bound to run %q, not %q", p.RunID, runID)
	}
	return context.WithValue(ctx, principalKey{}, p), nil
}

// bearer reads the one "authorization: Bearer <token>" header.
func bearer(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get("authorization")
	if len(v) != 1 {
		return "", status.Errorf(codes.Unauthenticated, "expected one authorization header, got %d", len(v))
	}
	token, ok := strings.CutPrefix(v[0], "Bearer ")
	if !ok || token == "" {
		return "", status.Error(codes.Unauthenticated, "authorization header is not a bearer token")
	}
	return token, nil
}

// requestRunID finds the run a request targets, where KFP's server binds
// the token review to a run.
func requestRunID(ctx context.Context, req any) string {
	switch r := req.(type) {
	case interface{ GetRunId() string }:
		return r.GetRunId()
	case *pb.CreateArtifactTaskRequest:
		return r.GetArtifactTask().GetRunId()
	case *pb.CreateArtifactTasksBulkRequest:
		return singleRun(r.GetArtifactTasks())
	case *pb.CreateArtifactsBulkRequest:
		return singleRun(r.GetArtifacts())
	case *pb.FindCachedTaskRequest:
		return boundRunID(ctx)
	}
	return ""
}

// singleRun is the run all items share, "" if they differ.
func singleRun[T interface{ GetRunId() string }](items []T) string {
	if len(items) == 0 {
		return ""
	}
	for _, it := range items[1:] {
		if it.GetRunId() != items[0].GetRunId() {
			return ""
		}
	}
	return items[0].GetRunId()
}
