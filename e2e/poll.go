package e2e

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// pollInterval is how often poll checks: short, because every check is a
// cheap local call and the phases we wait for take a second or so.
const pollInterval = 100 * time.Millisecond

// permanent marks a check error that no amount of waiting fixes (a process
// died); poll returns it at once.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// poll calls check until it reports done, returns a permanent error, or ctx
// ends (then the last error is reported with what was awaited).
func poll(ctx context.Context, what string, check func() (bool, error)) error {
	var last error
	for {
		ok, err := check()
		if ok {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return fmt.Errorf("waiting for %s: %w", what, p.error)
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}
