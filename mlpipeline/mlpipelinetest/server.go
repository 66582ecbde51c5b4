package mlpipelinetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// Method names for Calls.
const (
	MethodCreateTask = "CreateTaskV1"
	MethodListTasks  = "ListTasksV1"
)

// Server is the in-memory TaskService. It is safe for concurrent use.
type Server struct {
	apipb.UnimplementedTaskServiceServer

	mu    sync.Mutex
	tasks []record
	calls map[string]int
	fault error
	delay time.Duration
	addr  string
}

// record is a stored task with its insertion number, the tie-breaker when
// two tasks share a created_at second.
type record struct {
	seq  int
	task *apipb.Task
}

// New returns an empty server; register it on a grpc.Server, or use
// StartTest.
func New() *Server { return &Server{calls: map[string]int{}} }

// Addr is the listening address set by StartTest, "" otherwise.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Calls counts calls of a method (MethodCreateTask, MethodListTasks),
// failed ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Tasks returns copies of the stored tasks in insertion order.
func (s *Server) Tasks() []*apipb.Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*apipb.Task, len(s.tasks))
	for i, r := range s.tasks {
		out[i] = cloneTask(r.task)
	}
	return out
}

// FailWith makes every call return err (use a status error for a specific
// code) until FailWith(nil).
func (s *Server) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = err
}

// SetDelay holds every call for d, or until the caller's deadline, to
// exercise client timeouts.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// enter counts the call and applies the injected delay and fault.
func (s *Server) enter(ctx context.Context, method string) error {
	s.mu.Lock()
	s.calls[method]++
	delay, fault := s.delay, s.fault
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fault
}

// CreateTaskV1 stores a cache entry.
func (s *Server) CreateTaskV1(ctx context.Context, req *apipb.CreateTaskRequest) (*apipb.Task, error) {
	if err := s.enter(ctx, MethodCreateTask); err != nil {
		return nil, err
	}
	if err := validateTask(req.GetTask()); err != nil {
		return nil, err
	}
	task := storedTask(req.GetTask())
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := len(s.tasks) + 1
	task.Id = fmt.Sprintf("task-%08d", seq)
	s.tasks = append(s.tasks, record{seq: seq, task: task})
	return cloneTask(task), nil
}

// ListTasksV1 answers the cache lookup subset described in the package doc.
func (s *Server) ListTasksV1(ctx context.Context, req *apipb.ListTasksRequest) (*apipb.ListTasksResponse, error) {
	if err := s.enter(ctx, MethodListTasks); err != nil {
		return nil, err
	}
	q, err := parseQuery(req)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	matches := q.match(s.tasks)
	s.mu.Unlock()
	return q.page(matches), nil
}
