package plugin

import (
	"container/list"
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/golang/glog"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// RunsConfig bounds how the plugin runs and remembers driver calls.
type RunsConfig struct {
	// RunTimeout caps one driver run; it is independent of Argo's HTTP
	// timeout because a slow run keeps going and is picked up by a requeue.
	RunTimeout time.Duration
	// MaxEntries and MaxAge bound the remembered outcomes so that a
	// long-lived agent pod does not grow without limit. Evicted calls simply
	// run the (idempotent) driver again.
	MaxEntries int
	MaxAge     time.Duration
	// FailedMaxAge is shorter: a failed call is remembered long enough to
	// answer Argo's repeats of the same call, not so long that a deliberate
	// retry of the node can never succeed.
	FailedMaxAge time.Duration
	// MaxBytes bounds the size of the remembered outcomes (their pod spec
	// patches and messages): a count alone lets a few huge calls hold
	// hundreds of MiB. The oldest finished outcomes go first.
	MaxBytes int64
}

// DefaultRunsConfig holds the defaults documented in the README.
var DefaultRunsConfig = RunsConfig{
	RunTimeout:   10 * time.Minute,
	MaxEntries:   2048,
	MaxAge:       time.Hour,
	FailedMaxAge: time.Minute,
	MaxBytes:     64 << 20,
}

// Runs runs each distinct call once and remembers its outcome: concurrent
// and repeated calls with the same key share one driver run.
type Runs struct {
	drv     driver.Driver
	cfg     RunsConfig
	now     func() time.Time
	ctx     context.Context // parent of every run; cancelled by Close
	cancel  context.CancelFunc
	metrics *Metrics

	mu      sync.Mutex
	entries map[string]*run
	order   *list.List // of *run, oldest first
	bytes   int64      // sum of the finished entries' sizes
}

type run struct {
	key      string
	done     chan struct{}
	result   *driver.Result
	err      error
	expires  time.Time // zero while running
	position *list.Element
	size     int64 // approximate bytes held, once finished
}

// entryOverhead approximates what an entry costs besides its strings.
const entryOverhead = 512

func outcomeSize(key string, res *driver.Result, err error) int64 {
	n := int64(entryOverhead + len(key))
	if res != nil {
		n += int64(len(res.PodSpecPatch) + len(res.Message))
	}
	if err != nil {
		n += int64(len(err.Error()))
	}
	return n
}

// NewRuns returns a store that runs calls on drv.
func NewRuns(drv driver.Driver, cfg RunsConfig, m *Metrics) *Runs {
	ctx, cancel := context.WithCancel(context.Background())
	return &Runs{
		drv: drv, cfg: cfg, now: time.Now, ctx: ctx, cancel: cancel, metrics: m,
		entries: map[string]*run{}, order: list.New(),
	}
}

// Close cancels the runs still in flight.
func (s *Runs) Close() { s.cancel() }

// Bytes is the approximate size of the remembered outcomes.
func (s *Runs) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Len is the number of remembered calls, running or finished.
func (s *Runs) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Do returns the outcome of the call identified by key, starting the driver
// on req if no run for key is remembered. It waits at most wait, and no
// longer than ctx (the HTTP request) lasts; done is false when the run is
// still going (the caller answers Running + requeue). The run itself goes
// on either way.
func (s *Runs) Do(ctx context.Context, key string, req *driver.Request, wait time.Duration) (res *driver.Result, err error, done bool) {
	r := s.lookupOrStart(key, req)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.result, r.err, true
	case <-timer.C:
		return nil, nil, false
	case <-ctx.Done():
		return nil, nil, false
	}
}

func (s *Runs) lookupOrStart(key string, req *driver.Request) *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if r, ok := s.entries[key]; ok {
		if r.expires.IsZero() || now.Before(r.expires) {
			return r
		}
		s.remove(r)
	}
	s.evict(now)
	r := &run{key: key, done: make(chan struct{})}
	r.position = s.order.PushBack(r)
	s.entries[key] = r
	go s.execute(r, req)
	return r
}

func (s *Runs) execute(r *run, req *driver.Request) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RunTimeout)
	defer cancel()
	s.metrics.inflight.Inc()
	defer s.metrics.inflight.Dec()
	res, err := safeRun(ctx, s.drv, req)

	s.mu.Lock()
	defer s.mu.Unlock()
	r.result, r.err = res, err
	switch {
	case driver.IsTransient(err):
		// Forget it: the next call (after the requeue) runs again.
		s.remove(r)
	case err != nil:
		r.expires = s.now().Add(s.cfg.FailedMaxAge)
	default:
		r.expires = s.now().Add(s.cfg.MaxAge)
	}
	if r.position != nil {
		r.size = outcomeSize(r.key, res, err)
		s.bytes += r.size
		s.shrink()
	}
	close(r.done)
}

// shrink drops the oldest finished outcomes until the total fits MaxBytes.
// Callers waiting on a dropped run still get its outcome (they hold it).
func (s *Runs) shrink() {
	for e := s.order.Front(); e != nil && s.cfg.MaxBytes > 0 && s.bytes > s.cfg.MaxBytes; {
		next := e.Next()
		if r := e.Value.(*run); !r.expires.IsZero() {
			s.remove(r)
		}
		e = next
	}
}

// safeRun turns a driver panic into a node failure: one bad template must
// never take the sidecar, and with it every other task, down.
func safeRun(ctx context.Context, drv driver.Driver, req *driver.Request) (res *driver.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			glog.Errorf("driver panic: %v\n%s", p, debug.Stack())
			res, err = nil, fmt.Errorf("internal error in the driver: %v", p)
		}
	}()
	res, err = drv.Run(ctx, req)
	if err == nil && res == nil {
		err = fmt.Errorf("internal error in the driver: no result")
	}
	return res, err
}

// evict drops expired outcomes and, past MaxEntries, the oldest finished
// ones. Running entries are kept: their callers are waiting for them.
func (s *Runs) evict(now time.Time) {
	for e := s.order.Front(); e != nil; {
		next := e.Next()
		r := e.Value.(*run)
		finished := !r.expires.IsZero()
		if finished && (now.After(r.expires) || len(s.entries) >= s.cfg.MaxEntries) {
			s.remove(r)
		} else if len(s.entries) < s.cfg.MaxEntries {
			break // the rest is younger and there is room
		}
		e = next
	}
}

func (s *Runs) remove(r *run) {
	if s.entries[r.key] == r {
		delete(s.entries, r.key)
	}
	if r.position != nil {
		s.order.Remove(r.position)
		r.position = nil
		s.bytes -= r.size
	}
}
