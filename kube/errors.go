package kube

import (
	"context"
	"errors"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// IsTransient reports whether err, from a call of Interface, may pass when
// the same call is made again: the API server was not reached, dropped the
// connection, or answered that it is busy or slow. Anything else the server
// answered (forbidden, invalid, conflict, ...) is not: repeating the call
// would get the same answer.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) {
		return true
	}
	if _, retryAfter := apierrors.SuggestsClientDelay(err); retryAfter {
		return true
	}
	return unreachable(err)
}

// unreachable: the request never got an answer. A failed dial covers a
// stopped API server (connection refused), an unresolvable or unroutable
// address; reset and EOF cover a server that went away mid-request.
func unreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || utilnet.IsConnectionRefused(err) ||
		utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}
