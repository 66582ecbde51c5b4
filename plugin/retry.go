package plugin

import (
	"sync"
	"time"
)

// retryClock remembers when each call first hit a transient error, so a
// call that keeps failing transiently (a service that stays unreachable)
// fails its node once its budget is spent instead of requeueing forever.
type retryClock struct {
	budget time.Duration
	mu     sync.Mutex
	first  map[string]time.Time
}

// maxRetryKeys bounds the clock; stale keys (calls Argo stopped making)
// are pruned when it is full.
const maxRetryKeys = 4096

func newRetryClock(budget time.Duration) *retryClock {
	return &retryClock{budget: budget, first: map[string]time.Time{}}
}

// exceeded records a transient failure of key at now. It reports how long
// the call has been retried and whether that is past the budget; a call
// past its budget is forgotten, so a later retry of the node starts anew.
func (c *retryClock) exceeded(key string, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start, ok := c.first[key]
	if !ok {
		c.prune(now)
		c.first[key] = now
		return 0, false
	}
	tried := now.Sub(start)
	if tried < c.budget {
		return tried, false
	}
	delete(c.first, key)
	return tried, true
}

func (c *retryClock) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.first, key)
}

func (c *retryClock) prune(now time.Time) {
	if len(c.first) < maxRetryKeys {
		return
	}
	for k, t := range c.first {
		if now.Sub(t) > 2*c.budget {
			delete(c.first, k)
		}
	}
	if len(c.first) >= maxRetryKeys {
		clear(c.first)
	}
}
