package mlpipelinetest

import (
	"crypto/tls"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// StartTest serves a new Server on a loopback port, plaintext, until the
// test ends.
func StartTest(t testing.TB) *Server {
	t.Helper()
	return start(t)
}

// StartTestTLS is StartTest over TLS with the given server certificate.
func StartTestTLS(t testing.TB, cert tls.Certificate) *Server {
	t.Helper()
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return start(t, grpc.Creds(creds))
}

func start(t testing.TB, opts ...grpc.ServerOption) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mlpipelinetest: listening: %v", err)
	}
	s := New()
	s.addr = lis.Addr().String()
	gs := grpc.NewServer(opts...)
	apipb.RegisterTaskServiceServer(gs, s)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return s
}

func cloneTask(t *apipb.Task) *apipb.Task { return proto.Clone(t).(*apipb.Task) }
