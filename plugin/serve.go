package plugin

import (
	"context"
	"strings"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/httpserve"
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
	if b, err := ReadSmallFile(saFile, MaxNamespaceFileBytes); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// Serve listens on addr and serves s until ctx is cancelled, then fails
// readiness, lets the calls in progress finish (up to grace) and cancels the
// driver runs still going. ready, if not nil, receives the bound address once
// the listener is open.
func Serve(ctx context.Context, s *Server, addr string, grace time.Duration, ready chan<- string) error {
	defer s.Close()
	return httpserve.Run(ctx, s, addr, ExecutePath, grace, ready, func() { s.SetReady(false) })
}
