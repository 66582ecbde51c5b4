package cache

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// classify wraps err with op and marks it transient when the server was
// unreachable or too slow: the plugin then answers Argo "Running, requeue"
// and the same driver call is retried, instead of failing the task over a
// blip. Everything else (a rejected request, a server bug, the caller's own
// cancellation, TLS or an address that can never work) fails normally.
func classify(op string, err error) error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	if mlmd.IsMisconfigured(err) {
		return wrapped
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return driver.Transient(wrapped)
	}
	return wrapped
}
