package mlmdserver

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxMessageSize matches the 100 MiB limit KFP's MLMD client uses, so large
// execution properties (inputs, outputs) do not fail here first.
const maxMessageSize = 100 << 20

// Server is an in-memory implementation of ml_metadata.MetadataStoreService.
// The zero value is not usable; call New. All methods are safe for
// concurrent use.
type Server struct {
	mlmd.UnimplementedMetadataStoreServiceServer

	// mu serialises every RPC, as the real MLMD gRPC server does; it makes
	// each RPC one isolated transaction.
	mu sync.Mutex
	st *store

	// ctl guards the test hooks, kept apart from mu so that a counted or
	// failed call never waits for the store.
	ctl         sync.Mutex
	unavailable bool
	failNext    map[string][]codes.Code
	calls       map[string]int
}

var _ mlmd.MetadataStoreServiceServer = (*Server)(nil)

// New returns an empty store.
func New() *Server {
	return &Server{st: newStore(), failNext: map[string][]codes.Code{}, calls: map[string]int{}}
}

// read runs fn under the store lock.
func (s *Server) read(fn func(*store) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(s.st)
}

// write runs fn as one transaction: when fn fails, every change it made is
// undone before the lock is released.
func (s *Server) write(fn func(*store) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.j.begin()
	if err := fn(s.st); err != nil {
		s.st.j.rollback()
		return err
	}
	s.st.j.commit()
	return nil
}

// NewGRPCServer returns a gRPC server that serves s with the test hooks
// (call counting, fault injection) installed. Extra options are appended.
func (s *Server) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	base := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.UnaryInterceptor()),
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
	}
	gs := grpc.NewServer(append(base, opts...)...)
	mlmd.RegisterMetadataStoreServiceServer(gs, s)
	return gs
}

// UnaryInterceptor counts every call by method name and applies injected
// faults before the handler runs. NewGRPCServer installs it; use it directly
// only when building your own grpc.Server.
func (s *Server) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
		if err := s.admit(method); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// admit records one call of method and returns the fault to answer, if any.
func (s *Server) admit(method string) error {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.calls[method]++
	if s.unavailable {
		return status.Errorf(codes.Unavailable, "%s: mlmdserver is set unavailable", method)
	}
	if queue := s.failNext[method]; len(queue) > 0 {
		s.failNext[method] = queue[1:]
		return status.Errorf(queue[0], "%s: injected fault", method)
	}
	return nil
}

// SetUnavailable makes every RPC answer codes.Unavailable while on is true,
// the way a restarting MLMD looks to clients. Calls are still counted.
func (s *Server) SetUnavailable(on bool) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.unavailable = on
}

// FailNext makes the next n calls of method (a short name such as
// "PutExecution") answer code, e.g. to test a client's retry of Aborted.
// It panics on a method the service does not have, since such a fault
// would silently never fire.
func (s *Server) FailNext(method string, code codes.Code, n int) {
	if !isServiceMethod(method) {
		panic(fmt.Sprintf("mlmdserver.FailNext: %q is not a method of %s", method, mlmd.MetadataStoreService_ServiceDesc.ServiceName))
	}
	s.ctl.Lock()
	defer s.ctl.Unlock()
	for range n {
		s.failNext[method] = append(s.failNext[method], code)
	}
}

func isServiceMethod(method string) bool {
	for _, m := range mlmd.MetadataStoreService_ServiceDesc.Methods {
		if m.MethodName == method {
			return true
		}
	}
	return false
}

// Calls returns how many times each RPC was called since the last
// ResetCalls, keyed by short method name (e.g. "GetExecutionsByContext").
// Only calls that arrive over gRPC are counted.
func (s *Server) Calls() map[string]int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return maps.Clone(s.calls)
}

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	clear(s.calls)
}

// errorf builds a gRPC status error.
func errorf(code codes.Code, format string, args ...any) error {
	return status.Errorf(code, format, args...)
}

// wrap prefixes an error's message with context and keeps its status code.
func wrap(err error, format string, args ...any) error {
	st := status.Convert(err)
	return status.Errorf(st.Code(), "%s: %s", fmt.Sprintf(format, args...), st.Message())
}

// answer returns resp, or the error prefixed with the RPC name.
func answer[R any](resp R, err error, rpc string) (R, error) {
	if err != nil {
		var zero R
		return zero, wrap(err, "%s", rpc)
	}
	return resp, nil
}
