package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// ExecutePath is where Argo's agent posts template calls.
const ExecutePath = "/api/v1/template.execute"

// Authenticator checks the Authorization header of a call. It returns an
// error wrapping errNoToken when it has nothing to check against.
type Authenticator interface {
	Check(header string) (bool, error)
}

// Config wires a Server.
type Config struct {
	Driver driver.Driver
	Auth   Authenticator
	// PodNamespace is the sidecar's own namespace ("" when unknown). A call
	// for a workflow in another namespace is refused.
	PodNamespace string
	// Wait is how long a call waits for the driver before answering Running;
	// it must stay under Argo's 30 s client timeout.
	Wait time.Duration
	// Requeue is when Argo should ask again about a running call, and
	// TransientRequeue when a call hit a transient error (e.g. MLMD down).
	Requeue          time.Duration
	TransientRequeue time.Duration
	Runs             RunsConfig
	MaxBodyBytes     int64
	// Endpoints are the services the driver uses; a call's endpoint
	// arguments must agree with them (see applyEndpoints).
	Endpoints driver.Endpoints
}

// DefaultConfig returns the documented defaults; Driver and Auth are unset.
func DefaultConfig() Config {
	return Config{
		Wait:             20 * time.Second,
		Requeue:          time.Second,
		TransientRequeue: 5 * time.Second,
		Runs:             DefaultRunsConfig,
		MaxBodyBytes:     16 << 20,
		Endpoints:        driver.DefaultEndpoints(),
	}
}

// Server answers Argo's executor-plugin calls and the health and metrics
// endpoints.
type Server struct {
	cfg     Config
	runs    *Runs
	metrics *Metrics
	mux     *http.ServeMux
	ready   atomic.Bool
	unknown sync.Map // argument names already logged as unknown
}

// New returns a Server; it reports ready at once (see SetReady).
func New(cfg Config) *Server {
	m := NewMetrics()
	s := &Server{cfg: cfg, metrics: m, runs: NewRuns(cfg.Driver, cfg.Runs, m), mux: http.NewServeMux()}
	s.ready.Store(true)
	s.mux.HandleFunc(ExecutePath, s.execute)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.mux.HandleFunc("/readyz", s.readyz)
	s.mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetReady flips /readyz, e.g. to drain before shutdown.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Close stops the driver runs still in flight.
func (s *Server) Close() { s.runs.Close() }

// Metrics exposes the server's Prometheus series.
func (s *Server) Metrics() *Metrics { return s.metrics }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// call is what one template.execute call carries through the handler, for
// the reply and the log line.
type call struct {
	started  time.Time
	wf       WorkflowMeta
	template string
	req      *driver.Request
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	c := &call{started: time.Now()}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	ok, err := s.cfg.Auth.Check(r.Header.Get("Authorization"))
	switch {
	case errors.Is(err, errNoToken):
		glog.Errorf("refusing call until the token can be read: %v", err)
		s.metrics.observe("", "unavailable", time.Since(c.started).Seconds())
		http.Error(w, "plugin token not available yet", http.StatusServiceUnavailable)
		return
	case err != nil || !ok:
		glog.Warningf("refusing call from %s: missing or wrong bearer token", r.RemoteAddr)
		s.metrics.observe("", "denied", time.Since(c.started).Seconds())
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	var in ExecuteRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)).Decode(&in); err != nil {
		http.Error(w, fmt.Sprintf("malformed request body: %v", err), http.StatusBadRequest)
		return
	}
	reply := s.handle(c, &in)
	s.finish(c, reply)
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(reply); err != nil {
		glog.Warningf("writing reply: %v", err)
	}
}

// handle decides the reply for an authenticated call.
func (s *Server) handle(c *call, in *ExecuteRequest) *ExecuteReply {
	c.wf = in.Workflow.Metadata
	if in.Template == nil {
		return &ExecuteReply{} // nothing we could run
	}
	c.template = in.Template.Name
	body, mine := in.Template.Plugin[PluginName]
	if !mine {
		return &ExecuteReply{} // another plugin's template
	}
	var pa pluginArgs
	if err := json.Unmarshal(body, &pa); err != nil {
		return failed(fmt.Errorf("template.plugin.%s: %v", PluginName, err))
	}
	req, unknown, err := DecodeArgs(pa.Args)
	if err != nil {
		return failed(err)
	}
	c.req = req
	s.logUnknown(unknown)
	if err := applyEndpoints(pa.Args, s.cfg.Endpoints, &req.Options); err != nil {
		return failed(err)
	}
	if err := s.checkNamespace(c.wf.Namespace); err != nil {
		return failed(err)
	}
	req.Namespace, req.WorkflowName, req.WorkflowUID = c.wf.Namespace, c.wf.Name, c.wf.UID
	res, err, done := s.runs.Do(callKey(c.wf.UID, pa.Args), req, s.cfg.Wait)
	switch {
	case !done:
		return s.running("driver still running")
	case driver.IsTransient(err):
		return s.requeue(fmt.Sprintf("retrying: %v", err), s.cfg.TransientRequeue)
	case err != nil:
		return failed(err)
	}
	return succeeded(res, req.Type, in.Template.Outputs.Parameters)
}

func (s *Server) checkNamespace(ns string) error {
	if ns == "" {
		return errors.New("workflow.metadata.namespace is empty")
	}
	if s.cfg.PodNamespace != "" && ns != s.cfg.PodNamespace {
		return fmt.Errorf("workflow namespace %q differs from the plugin's namespace %q: refusing to act across namespaces", ns, s.cfg.PodNamespace)
	}
	return nil
}

func (s *Server) logUnknown(names []string) {
	for _, n := range names {
		if _, seen := s.unknown.LoadOrStore(n, true); !seen {
			glog.Warningf("ignoring unknown driver-plugin argument %q (newer compiler?)", n)
		}
	}
}

func (s *Server) running(msg string) *ExecuteReply { return s.requeue(msg, s.cfg.Requeue) }

func (s *Server) requeue(msg string, after time.Duration) *ExecuteReply {
	d := Duration(after)
	return &ExecuteReply{Node: &NodeResult{Phase: PhaseRunning, Message: msg}, Requeue: &d}
}

func failed(err error) *ExecuteReply {
	return &ExecuteReply{Node: &NodeResult{Phase: PhaseFailed, Message: err.Error()}}
}

// succeeded renders the driver's result as the declared output parameters,
// filling what the driver left unset with the template's own defaults.
func succeeded(res *driver.Result, t driver.Type, declared []DeclaredParameter) *ExecuteReply {
	values := res.Outputs(t)
	var params []Parameter
	for _, p := range declared {
		v, ok := values[p.Name]
		if !ok {
			v, ok = p.declaredDefault()
		}
		if ok {
			params = append(params, Parameter{Name: p.Name, Value: v})
		}
	}
	node := &NodeResult{Phase: PhaseSucceeded, Message: res.Message}
	if len(params) > 0 {
		node.Outputs = &Outputs{Parameters: params}
	}
	return &ExecuteReply{Node: node}
}

// callKey identifies a call: the same workflow with the same arguments is
// the same driver step, however often Argo sends it. Arguments are
// re-encoded so that key order in the JSON does not matter.
func callKey(workflowUID string, args map[string]json.RawMessage) string {
	h := sha256.New()
	io.WriteString(h, workflowUID)
	h.Write([]byte{0})
	canonical, _ := json.Marshal(args) // map keys are sorted; values are valid JSON
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) finish(c *call, reply *ExecuteReply) {
	phase, msg, typ, task := "declined", "", "", ""
	if reply.Node != nil {
		phase, msg = reply.Node.Phase, reply.Node.Message
	}
	if c.req != nil {
		typ, task = string(c.req.Type), c.req.TaskName
	}
	elapsed := time.Since(c.started)
	s.metrics.observe(typ, phase, elapsed.Seconds())
	if phase == "declined" && !glog.V(2) {
		return
	}
	glog.Infof("call namespace=%s workflow=%s uid=%s template=%s task=%s type=%s phase=%s duration=%s decision=%q",
		c.wf.Namespace, c.wf.Name, c.wf.UID, c.template, task, typ, phase, elapsed.Round(time.Microsecond), msg)
}
