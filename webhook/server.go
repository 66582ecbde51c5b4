package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/httpserve"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Paths the MutatingWebhookConfiguration calls.
const (
	WorkflowsPath = "/mutate/workflows"
	PodsPath      = "/mutate/pods"
)

// Config configures Run.
type Config struct {
	Addr  string        // listen address, e.g. ":8443"
	Grace time.Duration // how long admissions in progress may finish on shutdown
	// RESTConfig reaches the API server (plugin ConfigMap watch; caBundle).
	RESTConfig *rest.Config
	// ConfigNamespace and ConfigMapName locate the plugin ConfigMap.
	ConfigNamespace, ConfigMapName string
	// Workflows configures the workflow admissions.
	Workflows Workflows
	// AgentPatchRate caps the agent pods' ARGO_AGENT_PATCH_RATE (see
	// AgentPods.PatchRate); 0 leaves it.
	AgentPatchRate time.Duration
	// AgentCPULimit raises the CPU limit of Argo's agent containers (see
	// AgentPods.CPULimit); zero leaves it.
	AgentCPULimit resource.Quantity

	// CertFile and KeyFile: serve this pair (a mounted Secret). When empty,
	// the certificate is self-managed for DNSNames and IPs and its CA is
	// published in WebhookConfigName's caBundle.
	CertFile, KeyFile string
	DNSNames          []string
	IPs               []net.IP
	WebhookConfigName string
	Validity          time.Duration
	Propagation       time.Duration

	// Ready, if not nil, receives the bound address once listening.
	Ready chan<- string
}

// certSource is where the serving certificate comes from.
type certSource interface {
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	Ready() bool
	Run(ctx context.Context)
}

// Run serves the webhook until ctx is done, then drains.
func Run(ctx context.Context, cfg Config) error {
	if cfg.ConfigNamespace == "" {
		return errors.New("webhook: the plugin ConfigMap's namespace is not set (--config-namespace or $POD_NAMESPACE)")
	}
	client, err := dynamic.NewForConfig(cfg.RESTConfig)
	if err != nil {
		return fmt.Errorf("webhook: kubernetes client: %w", err)
	}
	certs, err := newCertSource(cfg, client)
	if err != nil {
		return err
	}
	if cfg.ConfigMapName == "" {
		cfg.ConfigMapName = pluginconfig.ConfigMapName
	}
	source := NewConfigMapSource(client, cfg.ConfigNamespace, cfg.ConfigMapName)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){source.Run, certs.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	defer wg.Wait()

	srv := NewServer(cfg.Workflows, AgentPods{Metadata: source, PatchRate: cfg.AgentPatchRate, CPULimit: cfg.AgentCPULimit}, NewMetrics())
	srv.AddReadyCheck(source.Synced)
	srv.AddReadyCheck(certs.Ready)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("webhook: listen %s: %w", cfg.Addr, err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12})
	return httpserve.Serve(ctx, tlsLn, srv, "admission webhook", cfg.Grace, cfg.Ready, srv.Drain)
}

func newCertSource(cfg Config, client dynamic.Interface) (certSource, error) {
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		return LoadFileCert(cfg.CertFile, cfg.KeyFile)
	}
	if cfg.WebhookConfigName == "" || len(cfg.DNSNames)+len(cfg.IPs) == 0 {
		return nil, errors.New("webhook: self-managed TLS needs the MutatingWebhookConfiguration name and at least one DNS name or IP")
	}
	return &SelfSigned{
		DNSNames: cfg.DNSNames, IPs: cfg.IPs, Validity: cfg.Validity, Propagation: cfg.Propagation,
		Bundle: &WebhookConfigBundle{Client: client, Name: cfg.WebhookConfigName},
	}, nil
}

// Server routes admissions, health, readiness and metrics.
type Server struct {
	mux      *http.ServeMux
	draining atomic.Bool
	ready    []func() bool
}

// NewServer builds the handler: workflow and pod admissions, /healthz,
// /readyz (503 until every ready check passes and while draining) and
// /metrics.
func NewServer(wf Workflows, pods AgentPods, m *Metrics) *Server {
	s := &Server{mux: http.NewServeMux()}
	s.mux.Handle(WorkflowsPath, &reviewHandler[workflowHead]{kind: "workflow", group: "argoproj.io", resource: "workflows",
		mutate: wf.mutate, metrics: m})
	s.mux.Handle(PodsPath, &reviewHandler[agentPod]{kind: "pod", group: "", resource: "pods",
		mutate: podMutator{pods}.mutate, metrics: m})
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	s.mux.HandleFunc("/readyz", s.readyz)
	s.mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return s
}

// AddReadyCheck adds a condition of readiness. Not safe once serving.
func (s *Server) AddReadyCheck(f func() bool) { s.ready = append(s.ready, f) }

// Drain fails readiness from now on, so that endpoints stop sending.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	for _, ok := range s.ready {
		if !ok() {
			http.Error(w, "not ready: plugin ConfigMap not synced or no serving certificate yet", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ok"))
}

// ServingNames are the names a self-managed certificate carries: the
// Service's in-cluster DNS names (when service and namespace are set) and
// the extra comma-separated names or IPs.
func ServingNames(service, namespace, extra string) ([]string, []net.IP) {
	var dnsNames []string
	var ips []net.IP
	if service != "" && namespace != "" {
		base := service + "." + namespace + ".svc"
		dnsNames = append(dnsNames, base, base+".cluster.local")
	}
	for _, n := range strings.Split(extra, ",") {
		n = strings.TrimSpace(n)
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else if n != "" {
			dnsNames = append(dnsNames, n)
		}
	}
	return dnsNames, ips
}
