package kfpapitest

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// Start serves a new Server on a loopback port, plaintext, until the test
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("kfpapitest: listening: %v", err)
	}
	s := New(opts)
	s.mu.Lock()
	s.addr = lis.Addr().String()
	s.mu.Unlock()
	gs := s.GRPCServer()
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return s
}

// Serve serves s on lis until the listener fails or the server stops;
// opts are added to the grpc.Server (e.g. TLS credentials).
func (s *Server) Serve(lis net.Listener, opts ...grpc.ServerOption) error {
	return s.GRPCServer(opts...).Serve(lis)
}

// GRPCServer returns a grpc.Server with the three services registered and
// the interceptor that counts calls, injects faults and authenticates.
func (s *Server) GRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	gs := grpc.NewServer(append(opts, grpc.ChainUnaryInterceptor(s.intercept))...)
	pb.RegisterRunServiceServer(gs, s)
	pb.RegisterArtifactServiceServer(gs, s)
	pb.RegisterPipelineServiceServer(gs, s)
	return gs
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndexByte(info.FullMethod, '/')+1:]
	s.mu.Lock()
	s.calls[method]++
	fault := s.fault
	s.mu.Unlock()
	if fault != nil {
		return nil, fault
	}
	ctx, err := s.authenticate(ctx, req)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}
