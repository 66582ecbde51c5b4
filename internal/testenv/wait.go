package testenv

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// pollUntil calls check every interval until it reports done, ctx ends, or
// proc (if not nil) exits: a crashed binary fails at once with its log tail
// instead of after the whole deadline.
func pollUntil(ctx context.Context, what string, proc *Process, check func(context.Context) (bool, error)) error {
	const interval = 100 * time.Millisecond
	var lastErr error
	for {
		if proc != nil {
			if exited, _ := proc.Exited(); exited {
				return fmt.Errorf("waiting for %s: %w", what, proc.exitError())
			}
		}
		ok, err := check(ctx)
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), lastErr)
		case <-time.After(interval):
		}
	}
}

// PollUntil is pollUntil for other harness packages.
func PollUntil(ctx context.Context, what string, proc *Process, check func(context.Context) (bool, error)) error {
	return pollUntil(ctx, what, proc, check)
}

// getOK fails unless a GET of url answers 200.
func getOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
