package driver

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Endpoints are the services the driver talks to. They are the
// administrator's configuration (the sidecar's flags, set in the plugin
// ConfigMap), never a template's: a template naming its own endpoint or CA
// could make the sidecar connect anywhere with its identity or read any file.
type Endpoints struct {
	MLMDHost       string
	MLMDPort       string
	MetadataTLS    bool
	MLPipelineHost string
	MLPipelinePort string
	MLPipelineTLS  bool
	// CAPEM holds extra trusted root certificates (PEM) for TLS to both
	// services: the admin's CA file, read once at start-up.
	CAPEM string
	// LauncherCACertPaths are the ca_cert_path values a template may pass
	// on to the launcher in the task's own pod (KFP mounts its CA bundle at
	// /kfp/certs/ca.crt). The sidecar never opens them.
	LauncherCACertPaths []string
}

// KFP's in-cluster services, as its API server compiles them into workflows.
const (
	DefaultMLMDHost       = "metadata-grpc-service.kubeflow.svc.cluster.local"
	DefaultMLMDPort       = "8080"
	DefaultMLPipelineHost = "ml-pipeline.kubeflow.svc.cluster.local"
	DefaultMLPipelinePort = "8887"
	// DefaultLauncherCACertPath is where KFP mounts a configured CA bundle
	// in task pods.
	DefaultLauncherCACertPath = "/kfp/certs/ca.crt"
)

// DefaultEndpoints are KFP's in-cluster defaults, plain text.
func DefaultEndpoints() Endpoints {
	return Endpoints{
		MLMDHost: DefaultMLMDHost, MLMDPort: DefaultMLMDPort,
		MLPipelineHost: DefaultMLPipelineHost, MLPipelinePort: DefaultMLPipelinePort,
		LauncherCACertPaths: []string{DefaultLauncherCACertPath},
	}
}

// Validate rejects endpoints that could never be dialled, so a bad
// configuration stops the sidecar at start-up instead of failing every call.
func (e Endpoints) Validate() error {
	for _, hp := range []struct{ what, host, port string }{
		{"metadata (MLMD)", e.MLMDHost, e.MLMDPort},
		{"ml-pipeline", e.MLPipelineHost, e.MLPipelinePort},
	} {
		if hp.host == "" {
			return fmt.Errorf("%s address is empty", hp.what)
		}
		if strings.ContainsAny(hp.host, "/?#@ \t") || (strings.Contains(hp.host, ":") && net.ParseIP(hp.host) == nil) {
			return fmt.Errorf("%s address %q is not a host name or IP address (give the port separately)", hp.what, hp.host)
		}
		if n, err := strconv.Atoi(hp.port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s port %q is not a port number", hp.what, hp.port)
		}
	}
	return nil
}
