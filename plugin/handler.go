package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
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
	// Metrics, when set, are the series /metrics serves (so that parts
	// wired around the driver can count into them); nil: new ones.
	Metrics *Metrics
	Auth    Authenticator
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
	// MaxBodyBytes bounds a request body; a larger one answers a Failed
	// node naming the limit. BodyTimeout bounds reading it; the whole
	// request must be answered within BodyTimeout + Wait + a margin.
	MaxBodyBytes int64
	BodyTimeout  time.Duration
	// TransientBudget is how long one call may keep hitting transient
	// errors (answered Running + requeue) before its node fails.
	TransientBudget time.Duration
	// Endpoints are the services the driver uses; a call's endpoint
	// arguments must agree with them (see applyEndpoints).
	Endpoints driver.Endpoints
}

// DefaultMaxBodyBytes is above what a Workflow can carry (etcd stores
// objects up to about 1.5 MiB) and keeps 16 concurrent calls well inside
// the sidecar's default 512 MiB memory limit.
const DefaultMaxBodyBytes = 4 << 20

// DefaultConfig returns the documented defaults; Driver and Auth are unset.
func DefaultConfig() Config {
	return Config{
		Wait:             20 * time.Second,
		Requeue:          time.Second,
		TransientRequeue: 5 * time.Second,
		Runs:             DefaultRunsConfig,
		MaxBodyBytes:     DefaultMaxBodyBytes,
		BodyTimeout:      10 * time.Second,
		TransientBudget:  5 * time.Minute,
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
	retries *retryClock
	now     func() time.Time
}

// New returns a Server; it reports ready at once (see SetReady).
func New(cfg Config) *Server {
	m := cfg.Metrics
	if m == nil {
		m = NewMetrics()
	}
	s := &Server{cfg: cfg, metrics: m, runs: NewRuns(cfg.Driver, cfg.Runs, m), mux: http.NewServeMux(),
		retries: newRetryClock(cfg.TransientBudget), now: time.Now}
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
// the reply, the metrics and the log line.
type call struct {
	started  time.Time
	typ      string // metrics label: a driver type or unknownType
	wf       WorkflowMeta
	template string
	req      *driver.Request
}

// unknownType labels calls whose driver type is not known (undecodable,
// declined, refused before decoding), so the label set stays fixed.
const unknownType = "unknown"

// httpError is an answer that is not a node result.
type httpError struct {
	status int
	phase  string // metrics label
	text   string
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	c := &call{started: time.Now(), typ: unknownType}
	s.setDeadlines(w)
	reply, herr := s.answer(c, w, r)
	if herr != nil {
		s.metrics.observe(c.typ, herr.phase, time.Since(c.started).Seconds())
		if herr.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		http.Error(w, herr.text, herr.status)
		return
	}
	s.finish(c, reply)
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(reply); err != nil {
		glog.Warningf("writing reply: %v", err)
	}
}

// setDeadlines bounds a slow client: the body must arrive within
// BodyTimeout and the reply be written within the wait plus a margin.
// (The server's header timeout covers the headers.)
func (s *Server) setDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(s.cfg.BodyTimeout)) // unsupported only in tests' recorders
	_ = rc.SetWriteDeadline(now.Add(s.cfg.BodyTimeout + s.cfg.Wait + 5*time.Second))
}

// answer authenticates and decodes a call and decides its reply.
func (s *Server) answer(c *call, w http.ResponseWriter, r *http.Request) (*ExecuteReply, *httpError) {
	if r.Method != http.MethodPost {
		return nil, &httpError{http.StatusMethodNotAllowed, "method_not_allowed", "use POST"}
	}
	ok, err := s.cfg.Auth.Check(r.Header.Get("Authorization"))
	switch {
	case errors.Is(err, errNoToken):
		glog.Errorf("refusing call until the token can be read: %v", err)
		return nil, &httpError{http.StatusServiceUnavailable, "unavailable", "plugin token not available yet"}
	case err != nil || !ok:
		glog.Warningf("refusing call from %s: missing or wrong bearer token", r.RemoteAddr)
		return nil, &httpError{http.StatusForbidden, "denied", "forbidden"}
	}
	body := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(body)
	if n := r.ContentLength; n > 0 && n <= s.cfg.MaxBodyBytes {
		body.Grow(int(n) + bytes.MinRead) // one allocation (or none, pooled), not growing as it reads
	}
	_, err = body.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooLarge):
		// A Failed node, not 413: Argo fails the whole workflow on a 4xx.
		return failed(fmt.Errorf("request body larger than the plugin's limit of %d bytes (--max-request-bytes)", s.cfg.MaxBodyBytes)), nil
	case errors.As(err, &netErr) && netErr.Timeout():
		return nil, &httpError{http.StatusServiceUnavailable, "unavailable", fmt.Sprintf("request body not received within %s", s.cfg.BodyTimeout)}
	case err != nil:
		return nil, &httpError{http.StatusBadRequest, "bad_request", clip(fmt.Sprintf("reading request body: %v", err))}
	}
	var in ExecuteRequest
	if err := json.Unmarshal(body.Bytes(), &in); err != nil {
		return nil, &httpError{http.StatusBadRequest, "bad_request", clip(fmt.Sprintf("malformed request body: %v", err))}
	}
	return s.handle(r.Context(), c, &in), nil
}

// bodyBuffers hold request bodies while they are decoded: decoding copies
// what it keeps (json.RawMessage included), so a buffer is free again once
// the call's arguments are read. Reading into a growing decoder buffer was
// the largest allocation of a call.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody: larger buffers (rare, up to --max-request-bytes) are let go.
const maxPooledBody = 1 << 20

func putBodyBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodyBuffers.Put(b)
}

// handle decides the reply for an authenticated call.
func (s *Server) handle(ctx context.Context, c *call, in *ExecuteRequest) *ExecuteReply {
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
	c.typ = typeLabel(pa.Args["type"])
	req, unknown, err := CheckArgs(pa.Args, s.cfg.Endpoints)
	if err != nil {
		return failed(err)
	}
	c.req = req
	s.logUnknown(unknown)
	if err := s.checkNamespace(c.wf.Namespace); err != nil {
		return failed(err)
	}
	if err := BindNamespace(req, c.wf.Namespace); err != nil {
		return failed(err)
	}
	req.WorkflowName, req.WorkflowUID = c.wf.Name, c.wf.UID
	key := callKey(c.wf.UID, pa.Args)
	res, err, done := s.runs.Do(ctx, key, req, s.cfg.Wait)
	switch {
	case !done:
		return s.running("driver still running")
	case driver.IsTransient(err):
		if tried, over := s.retries.exceeded(key, s.now()); over {
			return failed(fmt.Errorf("gave up after retrying for %s (--transient-budget %s): %v",
				roundDuration(tried), s.cfg.TransientBudget, err))
		}
		return s.requeue(fmt.Sprintf("retrying: %v", err), s.cfg.TransientRequeue)
	}
	s.retries.forget(key)
	if err != nil {
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
	return &ExecuteReply{Node: &NodeResult{Phase: PhaseRunning, Message: clip(msg)}, Requeue: &d}
}

func failed(err error) *ExecuteReply {
	return &ExecuteReply{Node: &NodeResult{Phase: PhaseFailed, Message: clip(err.Error())}}
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
	node := &NodeResult{Phase: PhaseSucceeded, Message: clip(res.Message)}
	if len(params) > 0 {
		node.Outputs = &Outputs{Parameters: params}
	}
	return &ExecuteReply{Node: node}
}

// callKey identifies a call: the same workflow with the same arguments is
// the same driver step, however often Argo sends it. Arguments are hashed
// in name order, so the order of keys in the JSON does not matter; their
// values as sent (Argo encodes a template the same way every time), since
// re-encoding them to a canonical form cost a tenth of a call's CPU.
func callKey(workflowUID string, args map[string]json.RawMessage) string {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) { // length-prefixed: no name or value can run into the next
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(workflowUID))
	for _, name := range slices.Sorted(maps.Keys(args)) {
		field([]byte(name))
		field(args[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) finish(c *call, reply *ExecuteReply) {
	phase, msg, task := "declined", "", ""
	if reply.Node != nil {
		phase, msg = reply.Node.Phase, reply.Node.Message
	}
	if c.req != nil {
		task = c.req.TaskName
	}
	elapsed := time.Since(c.started)
	s.metrics.observe(c.typ, phase, elapsed.Seconds())
	if phase == "declined" && !glog.V(2) {
		return
	}
	glog.Infof("call namespace=%s workflow=%s uid=%s template=%s task=%s type=%s phase=%s duration=%s decision=%q",
		short(c.wf.Namespace), short(c.wf.Name), short(c.wf.UID), short(c.template), short(task), c.typ, phase,
		elapsed.Round(time.Microsecond), msg)
}

// typeLabel is the driver type for metrics, or unknownType.
func typeLabel(raw json.RawMessage) string {
	var t string
	if json.Unmarshal(raw, &t) == nil && driver.Type(t).Valid() {
		return t
	}
	return unknownType
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
