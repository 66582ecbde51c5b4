package mlpipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"

	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// DefaultTimeout bounds each RPC when Options.Timeout is zero. A cache
// lookup is one indexed query; if it takes longer the server is in trouble
// and the driver call is better answered "try again later".
const DefaultTimeout = 10 * time.Second

// maxRecvMsgSize matches KFP's cache client.
const maxRecvMsgSize = 100 << 20

// Options locate and secure the ml-pipeline gRPC endpoint.
type Options struct {
	// Address is host:port, e.g. Address("ml-pipeline.kubeflow", "8887").
	Address string
	// TLS enables transport security; CAPEM, if set, adds those PEM
	// certificates to the system roots (the certificates, never a file name).
	TLS   bool
	CAPEM string
	// Timeout is the per-RPC deadline; 0 means DefaultTimeout. A shorter
	// deadline already on the caller's context wins.
	Timeout time.Duration
}

// Client calls TaskService on one ml-pipeline server. It is safe for
// concurrent use. Clients come from a Pool, which owns the connection.
type Client struct {
	addr    string
	svc     apipb.TaskServiceClient
	timeout time.Duration
}

func newClient(conn grpc.ClientConnInterface, opts Options) *Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{addr: opts.Address, svc: apipb.NewTaskServiceClient(conn), timeout: timeout}
}

// CreateTask records a cache entry (TaskService.CreateTaskV1). Errors keep
// their gRPC status, so status.Code works on them.
func (c *Client) CreateTask(ctx context.Context, task *apipb.Task) (*apipb.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out, err := c.svc.CreateTaskV1(ctx, &apipb.CreateTaskRequest{Task: task})
	if err != nil {
		return nil, c.wrap("CreateTaskV1", err)
	}
	return out, nil
}

// ListTasks queries cache entries (TaskService.ListTasksV1). Errors keep
// their gRPC status.
func (c *Client) ListTasks(ctx context.Context, req *apipb.ListTasksRequest) (*apipb.ListTasksResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out, err := c.svc.ListTasksV1(ctx, req)
	if err != nil {
		return nil, c.wrap("ListTasksV1", err)
	}
	return out, nil
}

func (c *Client) wrap(method string, err error) error {
	return fmt.Errorf("ml-pipeline %s: %s: %w", c.addr, method, err)
}

var errNoAddress = errors.New("ml-pipeline address is empty")
