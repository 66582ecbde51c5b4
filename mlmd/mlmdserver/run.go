package mlmdserver

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// stopGrace bounds how long Stop waits for in-flight RPCs before cutting
// connections, so a stuck client cannot hang a test's cleanup.
const stopGrace = 5 * time.Second

// Running is a Server serving gRPC on a TCP listener.
type Running struct {
	// Server is the store behind the listener; use it for the test hooks.
	Server *Server
	// Addr is the host:port actually listened on (useful with port 0).
	Addr string

	gs       *grpc.Server
	served   chan error
	stopOnce sync.Once
}

// Start serves a new, empty Server on addr (e.g. "127.0.0.1:0").
func Start(addr string) (*Running, error) {
	return New().Start(addr)
}

// Start serves s on addr until Stop is called.
func (s *Server) Start(addr string) (*Running, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mlmdserver: listen on %s: %w", addr, err)
	}
	r := &Running{Server: s, Addr: lis.Addr().String(), gs: s.NewGRPCServer(), served: make(chan error, 1)}
	go func() { r.served <- r.gs.Serve(lis) }()
	return r, nil
}

// Stop stops serving, letting in-flight RPCs finish for up to a few
// seconds. It is safe to call more than once.
func (r *Running) Stop() {
	r.stopOnce.Do(func() {
		done := make(chan struct{})
		go func() {
			r.gs.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(stopGrace):
			r.gs.Stop()
			<-done
		}
	})
}

// Wait blocks until the server stops and returns why; it returns nil after
// Stop.
func (r *Running) Wait() error {
	err := <-r.served
	r.served <- err // let later callers see it too
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Dial returns a plaintext client connection to the server, accepting
// messages as large as KFP's MLMD client does.
func (r *Running) Dial() (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(r.Addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)))
	if err != nil {
		return nil, fmt.Errorf("mlmdserver: dial %s: %w", r.Addr, err)
	}
	return conn, nil
}
