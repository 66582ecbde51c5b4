// Package httpserve runs an HTTP server for the life of a context and drains
// it on the way out, so the plugin sidecar and the profile hook stop on
// SIGTERM the same way.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/golang/glog"
)

// Run listens on addr and serves h until ctx is done. Then it calls drain
// (if not nil, e.g. to fail readiness), stops accepting connections and lets
// requests in progress finish for up to grace before closing them. ready, if
// not nil, receives the bound address once the listener is open. what names
// the server in the log.
func Run(ctx context.Context, h http.Handler, addr, what string, grace time.Duration, ready chan<- string, drain func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return Serve(ctx, ln, h, what, grace, ready, drain)
}

// Serve is Run on a listener the caller opened (e.g. wrapped in TLS by
// tls.NewListener). It closes ln.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, what string, grace time.Duration, ready chan<- string, drain func()) error {
	// Idle keep-alive connections are closed after a while, so slow or
	// abandoned clients cannot pile them up; handlers bound their own bodies.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	glog.Infof("serving %s on %s", what, ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if drain != nil {
		drain()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		glog.Warningf("requests still in progress after %s; closing them", grace)
		return srv.Close()
	case err != nil && !errors.Is(err, http.ErrServerClosed):
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
