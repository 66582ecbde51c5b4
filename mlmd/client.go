package mlmd

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc"
)

// Client is one MLMD server's client. Its methods are the driver's
// operations; each documents its round trips. Safe for concurrent use.
type Client struct {
	svc   pb.MetadataStoreServiceClient
	conn  io.Closer
	calls *atomic.Int64

	mu        sync.Mutex
	typeIDs   map[typeKey]int64
	typeNames map[int64]string // execution type ID -> name
	runs      map[runKey]*Run
	dags      map[int64]*Execution // see ParentDAG
	// members are executions verified to be in a run (see RunOf): a fact
	// MLMD never changes, so remembering it does not change any answer.
	members map[int64]runKey
}

type typeKind int

const (
	contextKind typeKind = iota
	executionKind
	artifactKind
)

type typeKey struct {
	kind typeKind
	name string
}

type runKey struct{ pipeline, run string }

// maxCachedRuns bounds the per-client run cache; one agent serves one
// workflow (one run), so this is only reached by long-lived test or dev
// processes, and a miss costs one read.
const maxCachedRuns = 64

// maxCachedDAGs bounds the parent DAG and membership caches the same way:
// a workflow's DAG executions, loop iterations included, rarely exceed it,
// and memory stays flat in a process that serves many (make soak).
const maxCachedDAGs = 4096

// NewClient wraps an established connection (the pool uses it; tests may
// pass their own). Every RPC made through it is counted (Calls).
func NewClient(cc grpc.ClientConnInterface) *Client {
	calls := new(atomic.Int64)
	var closer io.Closer
	if c, ok := cc.(io.Closer); ok {
		closer = c
	}
	return &Client{
		svc:       pb.NewMetadataStoreServiceClient(countingConn{cc, calls}),
		conn:      closer,
		calls:     calls,
		typeIDs:   map[typeKey]int64{},
		typeNames: map[int64]string{},
		runs:      map[runKey]*Run{},
		dags:      map[int64]*Execution{},
		members:   map[int64]runKey{},
	}
}

// Calls is the number of RPCs issued so far (retries of one RPC count once).
func (c *Client) Calls() int64 { return c.calls.Load() }

// Close closes the underlying connection, if the client owns one.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// countingConn counts logical RPCs on their way to the connection.
type countingConn struct {
	grpc.ClientConnInterface
	n *atomic.Int64
}

func (c countingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	c.n.Add(1)
	return c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
}

func (c *Client) cachedType(k typeKey) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.typeIDs[k]
	return id, ok
}

func (c *Client) rememberType(k typeKey, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.typeIDs[k] = id
	if k.kind == executionKind {
		c.typeNames[id] = k.name
	}
}
