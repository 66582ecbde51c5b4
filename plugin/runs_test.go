package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestRuns(d driver.Driver, cfg RunsConfig) (*Runs, *fakeClock) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	r := NewRuns(d, cfg, NewMetrics())
	r.now = clock.Now
	return r, clock
}

func TestRunsStayBounded(t *testing.T) {
	d := &countingDriver{}
	cfg := RunsConfig{RunTimeout: time.Minute, MaxEntries: 3, MaxAge: time.Hour, FailedMaxAge: time.Minute}
	r, _ := newTestRuns(d, cfg)
	defer r.Close()
	for i := 0; i < 10; i++ {
		if _, err, done := r.Do(context.Background(), fmt.Sprint("k", i), &driver.Request{}, time.Second); !done || err != nil {
			t.Fatalf("call %d: done=%v err=%v", i, done, err)
		}
		if n := r.Len(); n > cfg.MaxEntries {
			t.Fatalf("after %d calls %d outcomes remembered, bound is %d", i+1, n, cfg.MaxEntries)
		}
	}
	// The newest is remembered, the oldest evicted and run again.
	r.Do(context.Background(), "k9", &driver.Request{}, time.Second)
	if n := d.calls.Load(); n != 10 {
		t.Fatalf("newest call ran again: %d runs", n)
	}
	r.Do(context.Background(), "k0", &driver.Request{}, time.Second)
	if n := d.calls.Load(); n != 11 {
		t.Fatalf("evicted call should run again: %d runs", n)
	}
}

func TestRunsExpire(t *testing.T) {
	d := &countingDriver{}
	r, clock := newTestRuns(d, RunsConfig{RunTimeout: time.Minute, MaxEntries: 100, MaxAge: time.Hour, FailedMaxAge: time.Minute})
	defer r.Close()
	r.Do(context.Background(), "ok", &driver.Request{}, time.Second)
	clock.advance(59 * time.Minute)
	r.Do(context.Background(), "ok", &driver.Request{}, time.Second)
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("remembered outcome re-ran before MaxAge: %d", n)
	}
	clock.advance(2 * time.Minute)
	r.Do(context.Background(), "ok", &driver.Request{}, time.Second)
	if n := d.calls.Load(); n != 2 {
		t.Fatalf("outcome older than MaxAge was reused: %d runs", n)
	}
}

func TestFailedRunsAreRememberedBriefly(t *testing.T) {
	d := &countingDriver{err: errors.New("bad input")}
	r, clock := newTestRuns(d, RunsConfig{RunTimeout: time.Minute, MaxEntries: 100, MaxAge: time.Hour, FailedMaxAge: time.Minute})
	defer r.Close()
	r.Do(context.Background(), "bad", &driver.Request{}, time.Second)
	r.Do(context.Background(), "bad", &driver.Request{}, time.Second)
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("a repeat within FailedMaxAge ran again: %d", n)
	}
	clock.advance(2 * time.Minute)
	r.Do(context.Background(), "bad", &driver.Request{}, time.Second)
	if n := d.calls.Load(); n != 2 {
		t.Fatalf("a retry after FailedMaxAge must run again: %d", n)
	}
}

func TestRunTimeoutCancelsDriver(t *testing.T) {
	d := &countingDriver{release: make(chan struct{})} // never released
	r, _ := newTestRuns(d, RunsConfig{RunTimeout: 10 * time.Millisecond, MaxEntries: 10, MaxAge: time.Hour, FailedMaxAge: time.Minute})
	defer r.Close()
	_, err, done := r.Do(context.Background(), "slow", &driver.Request{}, 5*time.Second)
	if !done || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the run cut at RunTimeout, got done=%v err=%v", done, err)
	}
}
