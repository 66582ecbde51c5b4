package plugin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golang/glog"
)

// ServiceAccountNamespaceFile is where Kubernetes mounts the pod's namespace.
const ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// PodNamespace returns the sidecar's namespace from POD_NAMESPACE (set by the
// downward API in the plugin ConfigMap) or the mounted service-account file,
// or "" when neither is available.
func PodNamespace(getenv func(string) string, saFile string) string {
	if ns := strings.TrimSpace(getenv("POD_NAMESPACE")); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(saFile); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// Serve listens on addr and serves s until ctx is cancelled, then stops
// taking calls, lets the calls in progress finish (up to grace) and cancels
// the driver runs still going. ready, if not nil, receives the bound address
// once the listener is open.
func Serve(ctx context.Context, s *Server, addr string, grace time.Duration, ready chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	glog.Infof("serving %s on %s", ExecutePath, ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	s.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		glog.Warningf("calls still in progress after %s; closing anyway", grace)
		return srv.Close()
	}
	return err
}
