package mlmd

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Endpoint says how to reach one MLMD server. It is the pool key: calls with
// the same endpoint share one connection.
type Endpoint struct {
	Host string
	Port string
	// TLS enables transport security; CAPEM, when set, adds those PEM
	// certificates to the system roots. It is the certificates, not a file
	// name: the pool never opens files.
	TLS   bool
	CAPEM string
}

// Address is host:port.
func (e Endpoint) Address() string { return net.JoinHostPort(e.Host, e.Port) }

// Config tunes every client of a pool. Zero values take the defaults.
type Config struct {
	// RPCTimeout bounds each attempt of each RPC (default 5 s).
	RPCTimeout time.Duration
	// Retries is how many times an Unavailable RPC is tried again
	// (default 3); Backoff is the first wait, doubled each time (default
	// 100 ms). Kept short: the plugin answers Running + requeue when MLMD
	// stays down, which is a cheaper retry than blocking Argo's call.
	Retries int
	Backoff time.Duration
	// MaxMessageSize caps received messages (default 100 MiB, as KFP).
	MaxMessageSize int
}

func (c Config) withDefaults() Config {
	if c.RPCTimeout <= 0 {
		c.RPCTimeout = 5 * time.Second
	}
	if c.Retries < 0 {
		c.Retries = 0
	} else if c.Retries == 0 {
		c.Retries = 3
	}
	if c.Backoff <= 0 {
		c.Backoff = 100 * time.Millisecond
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 100 << 20
	}
	return c
}

// Pool hands out one Client per Endpoint, created on first use and reused by
// every later call. It is safe for concurrent use.
type Pool struct {
	cfg     Config
	mu      sync.Mutex
	clients map[Endpoint]*Client
}

// NewPool returns an empty pool.
func NewPool(cfg Config) *Pool {
	return &Pool{cfg: cfg.withDefaults(), clients: map[Endpoint]*Client{}}
}

// Get returns the client for ep, dialling it the first time. Dialling does
// not wait for the server: an unreachable MLMD surfaces as Unavailable on
// the first RPC.
func (p *Pool) Get(ep Endpoint) (*Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[ep]; ok {
		return c, nil
	}
	conn, err := dial(ep, p.cfg)
	if err != nil {
		return nil, err
	}
	c := NewClient(conn)
	p.clients[ep] = c
	return c, nil
}

// Len is the number of connections the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// Close closes every connection of the pool.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for ep, c := range p.clients {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
		delete(p.clients, ep)
	}
	return first
}

func dial(ep Endpoint, cfg Config) (*grpc.ClientConn, error) {
	creds, err := transportCredentials(ep)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(ep.Address(),
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(cfg.MaxMessageSize)),
		grpc.WithChainUnaryInterceptor(retryInterceptor(cfg)),
	)
	if err != nil {
		return nil, fmt.Errorf("connecting to MLMD at %s: %w", ep.Address(), err)
	}
	return conn, nil
}

func transportCredentials(ep Endpoint) (credentials.TransportCredentials, error) {
	if !ep.TLS {
		return insecure.NewCredentials(), nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if ep.CAPEM != "" && !roots.AppendCertsFromPEM([]byte(ep.CAPEM)) {
		return nil, fmt.Errorf("the MLMD CA bundle holds no PEM certificate")
	}
	return credentials.NewTLS(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}), nil
}
