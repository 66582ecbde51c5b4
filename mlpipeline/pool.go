package mlpipeline

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc"
)

// Address joins the driver's --ml_pipeline_server_address and
// --ml_pipeline_server_port flags.
func Address(host, port string) string { return net.JoinHostPort(host, port) }

// connKey is what makes two connections different. The timeout is not part
// of it: clients with different deadlines share a connection.
type connKey struct {
	addr  string
	tls   bool
	caPEM string
}

// Pool keeps one gRPC connection per address and TLS setting for the life of
// the process. The zero Pool is ready to use; it is safe for concurrent use.
type Pool struct {
	mu     sync.Mutex
	conns  map[connKey]*grpc.ClientConn
	closed bool
}

// Client returns a client for opts, creating the connection on first use.
// Connecting is lazy: an unreachable server shows up as codes.Unavailable
// on the first RPC, not here.
func (p *Pool) Client(opts Options) (*Client, error) {
	conn, err := p.conn(opts)
	if err != nil {
		return nil, err
	}
	return newClient(conn, opts), nil
}

func (p *Pool) conn(opts Options) (*grpc.ClientConn, error) {
	if opts.Address == "" {
		return nil, errNoAddress
	}
	key := connKey{addr: opts.Address, tls: opts.TLS, caPEM: opts.CAPEM}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("ml-pipeline connection pool is closed")
	}
	if conn, ok := p.conns[key]; ok {
		return conn, nil
	}
	conn, err := dial(opts)
	if err != nil {
		return nil, err
	}
	if p.conns == nil {
		p.conns = map[connKey]*grpc.ClientConn{}
	}
	p.conns[key] = conn
	return conn, nil
}

// Len reports how many connections the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close closes every connection; later Client calls fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for key, conn := range p.conns {
		if err := conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing connection to %s: %w", key.addr, err))
		}
	}
	p.conns = nil
	return errors.Join(errs...)
}

func dial(opts Options) (*grpc.ClientConn, error) {
	creds, err := transportCredentials(opts)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(opts.Address,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsgSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("ml-pipeline %s: creating gRPC client: %w", opts.Address, err)
	}
	return conn, nil
}

// Conn returns the shared connection for opts, for clients of other
// ml-pipeline services (the v2beta1 task and artifact APIs).
func (p *Pool) Conn(opts Options) (grpc.ClientConnInterface, error) { return p.conn(opts) }
