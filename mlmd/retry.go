package mlmd

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retryInterceptor gives every attempt its own deadline and repeats an RPC
// that failed with Unavailable (server down, connection reset) after an
// exponential backoff. No other code is retried: AlreadyExists, NotFound and
// the like are answers, and Aborted or DeadlineExceeded may hide a write that
// happened, which only the caller can check (the driver does, by name).
func retryInterceptor(cfg Config) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		wait := cfg.Backoff
		for attempt := 0; ; attempt++ {
			err := invokeOnce(ctx, cfg.RPCTimeout, method, req, reply, cc, invoke, opts)
			if status.Code(err) != codes.Unavailable || attempt >= cfg.Retries || IsMisconfigured(err) {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
}

func invokeOnce(ctx context.Context, timeout time.Duration, method string, req, reply any,
	cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts []grpc.CallOption) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return invoke(ctx, method, req, reply, cc, opts...)
}

// misconfigured are what gRPC says about a connection that no retry can
// fix: TLS against a plain-text server, a certificate that does not verify,
// an address it cannot parse.
var misconfigured = []string{
	"authentication handshake failed", "first record does not look like a TLS handshake",
	"x509: ", "tls: ", "certificate signed by unknown authority",
	"missing port in address", "too many colons in address", "invalid port",
}

// IsMisconfigured reports whether err is a connection error that only a
// configuration change fixes (see misconfigured). Such errors are not
// unreachable: the call fails at once instead of being retried.
func IsMisconfigured(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, m := range misconfigured {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// IsUnreachable reports whether err means MLMD (or another gRPC service)
// could not be reached or did not answer in time, so the same call may
// succeed later. Misconfigured connections are not: they never will.
func IsUnreachable(err error) bool {
	if IsMisconfigured(err) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return false
	}
	switch se.GRPCStatus().Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

// isAlreadyExists matches MLMD's unique-key violation, which older MySQL
// backends report only in the message text.
func isAlreadyExists(err error) bool {
	if status.Code(err) == codes.AlreadyExists {
		return true
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		msg := se.GRPCStatus().Message()
		return strings.Contains(msg, "AlreadyExists") || strings.Contains(msg, "Duplicate entry")
	}
	return false
}
