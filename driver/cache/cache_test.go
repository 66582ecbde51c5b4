package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// newCache serves a test TaskService on loopback and returns a Cache over a
// real gRPC client for it.
func newCache(t *testing.T, timeout time.Duration) (*cache.Cache, *mlpipelinetest.Server) {
	t.Helper()
	srv := mlpipelinetest.StartTest(t)
	pool := &mlpipeline.Pool{}
	t.Cleanup(func() { _ = pool.Close() })
	client, err := pool.Client(mlpipeline.Options{Address: srv.Addr(), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return cache.New(client), srv
}

func entry(fp string, execID int64, started time.Time) cache.Entry {
	return cache.Entry{
		Namespace: "team-a", PipelineName: "train", RunID: "run-1",
		ExecutionID: execID, Fingerprint: fp,
		StartedAt: started, FinishedAt: started.Add(time.Minute),
	}
}

func TestRecordThenLookup(t *testing.T) {
	c, _ := newCache(t, 0)
	ctx := context.Background()
	if err := c.Record(ctx, entry("fp-1", 42, time.Unix(1700000000, 0))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ns, pipeline, fp string
		wantID                 string
	}{
		{"same key hits", "team-a", "train", "fp-1", "42"},
		{"other fingerprint misses", "team-a", "train", "fp-2", ""},
		{"other namespace misses", "team-b", "train", "fp-1", ""},
		{"other pipeline misses", "team-a", "serve", "fp-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, hit, err := c.Lookup(ctx, tt.ns, tt.pipeline, tt.fp)
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.wantID || hit != (tt.wantID != "") {
				t.Errorf("Lookup = (%q, %v), want %q", id, hit, tt.wantID)
			}
		})
	}
}

// The newest entry wins, by created_at and then by insertion order.
func TestLookupReturnsNewest(t *testing.T) {
	c, _ := newCache(t, 0)
	ctx := context.Background()
	t0 := time.Unix(1700000000, 0)
	for _, e := range []cache.Entry{entry("fp", 1, t0), entry("fp", 3, t0.Add(time.Hour)), entry("fp", 2, t0)} {
		if err := c.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if id, _, _ := c.Lookup(ctx, "team-a", "train", "fp"); id != "3" {
		t.Errorf("Lookup = %q, want the newest entry 3", id)
	}
}

// The stored row is what KFP's launcher writes.
func TestRecordWritesLauncherShape(t *testing.T) {
	c, srv := newCache(t, 0)
	started := time.Unix(1700000000, 999)
	if err := c.Record(context.Background(), entry("fp", 42, started)); err != nil {
		t.Fatal(err)
	}
	tasks := srv.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks stored", len(tasks))
	}
	got := tasks[0]
	if got.GetPipelineName() != "pipeline/train" || got.GetNamespace() != "team-a" || got.GetRunId() != "run-1" ||
		got.GetMlmdExecutionID() != "42" || got.GetFingerprint() != "fp" ||
		got.GetCreatedAt().GetSeconds() != 1700000000 || got.GetCreatedAt().GetNanos() != 0 ||
		got.GetFinishedAt().GetSeconds() != 1700000060 {
		t.Errorf("stored task = %v", got)
	}
}

func TestRecordRejectsIncompleteEntry(t *testing.T) {
	c, srv := newCache(t, 0)
	for _, e := range []cache.Entry{entry("", 42, time.Now()), entry("fp", 0, time.Now())} {
		if err := c.Record(context.Background(), e); err == nil {
			t.Errorf("Record(%+v) succeeded", e)
		}
	}
	if n := srv.Calls(mlpipelinetest.MethodCreateTask); n != 0 {
		t.Errorf("%d CreateTaskV1 calls for invalid entries", n)
	}
}

// recorder captures the request Lookup sends.
type recorder struct{ req *apipb.ListTasksRequest }

func (r *recorder) ListTasks(_ context.Context, req *apipb.ListTasksRequest) (*apipb.ListTasksResponse, error) {
	r.req = req
	return &apipb.ListTasksResponse{}, nil
}

func (r *recorder) CreateTask(context.Context, *apipb.Task) (*apipb.Task, error) {
	return nil, errors.New("unused")
}

// The query is KFP's: three EQUALS string predicates in KFP's order, newest
// first, one result.
func TestLookupRequestShape(t *testing.T) {
	rec := &recorder{}
	if _, _, err := cache.New(rec).Lookup(context.Background(), "team-a", "my+pipe", "fp"); err != nil {
		t.Fatal(err)
	}
	if rec.req.GetSortBy() != "created_at desc" || rec.req.GetPageSize() != 1 || rec.req.GetPageToken() != "" {
		t.Errorf("request = %v", rec.req)
	}
	f, err := mlpipeline.DecodeFilter(rec.req.GetFilter())
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"fingerprint", "fp"}, {"pipelineName", "pipeline/my+pipe"}, {"namespace", "team-a"}}
	if len(f.GetPredicates()) != len(want) {
		t.Fatalf("predicates = %v", f.GetPredicates())
	}
	for i, p := range f.GetPredicates() {
		if p.GetOp() != apipb.Predicate_EQUALS || p.GetKey() != want[i][0] || p.GetStringValue() != want[i][1] {
			t.Errorf("predicate %d = %v, want EQUALS %s=%q", i, p, want[i][0], want[i][1])
		}
	}
}

func TestTransientErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     error
		delay     time.Duration
		transient bool
		code      codes.Code
	}{
		{"unavailable", status.Error(codes.Unavailable, "db down"), 0, true, codes.Unavailable},
		{"server deadline", status.Error(codes.DeadlineExceeded, "slow"), 0, true, codes.DeadlineExceeded},
		{"client deadline", nil, time.Second, true, codes.DeadlineExceeded},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad"), 0, false, codes.InvalidArgument},
		{"internal", status.Error(codes.Internal, "bug"), 0, false, codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newCache(t, 50*time.Millisecond)
			srv.FailWith(tt.fault)
			srv.SetDelay(tt.delay)
			_, _, lookupErr := c.Lookup(context.Background(), "ns", "p", "fp")
			recordErr := c.Record(context.Background(), entry("fp", 1, time.Now()))
			for _, err := range []error{lookupErr, recordErr} {
				if driver.IsTransient(err) != tt.transient || status.Code(err) != tt.code {
					t.Errorf("err = %v: transient %v, code %v; want %v, %v",
						err, driver.IsTransient(err), status.Code(err), tt.transient, tt.code)
				}
			}
		})
	}
}

// An address nobody listens on is Unavailable, hence transient.
func TestUnreachableServerIsTransient(t *testing.T) {
	pool := &mlpipeline.Pool{}
	defer pool.Close()
	client, err := pool.Client(mlpipeline.Options{Address: "127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cache.New(client).Lookup(context.Background(), "ns", "p", "fp")
	if !driver.IsTransient(err) {
		t.Errorf("err = %v, want transient", err)
	}
}

func TestConcurrentRecordAndLookup(t *testing.T) {
	c, srv := newCache(t, 0)
	ctx := context.Background()
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- recordAndFind(ctx, c, fmt.Sprintf("fp-%d", i), int64(i+1))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.Calls(mlpipelinetest.MethodListTasks); got != 2*n {
		t.Errorf("ListTasksV1 calls = %d, want %d", got, 2*n)
	}
}

// recordAndFind misses, records, then hits, as a driver and launcher pair.
func recordAndFind(ctx context.Context, c *cache.Cache, fp string, id int64) error {
	if _, hit, err := c.Lookup(ctx, "team-a", "train", fp); err != nil || hit {
		return fmt.Errorf("%s: first lookup hit=%v err=%v", fp, hit, err)
	}
	if err := c.Record(ctx, entry(fp, id, time.Now())); err != nil {
		return err
	}
	got, hit, err := c.Lookup(ctx, "team-a", "train", fp)
	if err != nil || !hit || got != fmt.Sprint(id) {
		return fmt.Errorf("%s: second lookup = %q, %v, %v", fp, got, hit, err)
	}
	return nil
}
