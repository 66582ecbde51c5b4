package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

const testToken = "0123456789abcdef0123456789abcdef"

// countingDriver records how often it ran and answers what it is told to.
type countingDriver struct {
	calls   atomic.Int32
	release chan struct{} // when set, Run blocks until it is closed
	result  *driver.Result
	err     error
	panics  bool
	last    atomic.Pointer[driver.Request]
}

func (d *countingDriver) Run(ctx context.Context, req *driver.Request) (*driver.Result, error) {
	d.calls.Add(1)
	d.last.Store(req)
	if d.release != nil {
		select {
		case <-d.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if d.panics {
		panic("boom")
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.result != nil {
		return d.result, nil
	}
	return &driver.Result{ExecutionID: 7, Message: "ok"}, nil
}

func writeToken(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(testToken+"\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	return p
}

func newTestServer(t *testing.T, d driver.Driver, mutate ...func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Driver = d
	cfg.Auth = NewTokenFile(writeToken(t))
	cfg.PodNamespace = "team-a"
	cfg.Wait = 2 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	s := New(cfg)
	t.Cleanup(s.Close)
	return s
}

// validArgs are the arguments of a CONTAINER driver call as KFP compiles
// them (strings after Argo substitution, booleans as booleans).
func validArgs() map[string]any {
	return map[string]any{
		"type":                       "CONTAINER",
		"pipeline_name":              "add-numbers",
		"run_id":                     "5f6a-uid",
		"run_name":                   "add-numbers-x7k2",
		"run_display_name":           "",
		"dag_execution_id":           "12",
		"component":                  `{"executorLabel":"exec-add","inputDefinitions":{"parameters":{"a":{"parameterType":"NUMBER_INTEGER"}}}}`,
		"task":                       `{"taskInfo":{"name":"add"},"componentRef":{"name":"comp-add"}}`,
		"task_name":                  "add",
		"container":                  `{"image":"python:3.11","command":["sh","-c"],"args":["echo"]}`,
		"iteration_index":            "-1",
		"kubernetes_config":          "",
		"cached_decision_path":       "/tmp/outputs/cached-decision",
		"pod_spec_patch_path":        "/tmp/outputs/pod-spec-patch",
		"condition_path":             "/tmp/outputs/condition",
		"mlmd_server_address":        "metadata-grpc-service.kubeflow.svc.cluster.local",
		"mlmd_server_port":           "8080",
		"ml_pipeline_server_address": "ml-pipeline.kubeflow.svc.cluster.local",
		"ml_pipeline_server_port":    "8887",
		"cache_disabled":             false,
		"ml_pipeline_tls_enabled":    false,
		"metadata_tls_enabled":       false,
		"http_proxy":                 "",
		"https_proxy":                "",
		"no_proxy":                   "",
	}
}

func containerOutputs() []any {
	return []any{
		map[string]any{"name": "pod-spec-patch", "valueFrom": map[string]any{"default": ""}},
		map[string]any{"name": "cached-decision", "default": "false", "valueFrom": map[string]any{"default": "false"}},
		map[string]any{"name": "condition", "valueFrom": map[string]any{"default": "true"}},
	}
}

func body(namespace string, plugin map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"workflow": map[string]any{"metadata": map[string]any{"name": "add-numbers-x7k2", "namespace": namespace, "uid": "5f6a-uid"}},
		"template": map[string]any{
			"name":    "system-container-driver",
			"plugin":  plugin,
			"outputs": map[string]any{"parameters": containerOutputs()},
		},
	})
	return b
}

func driverPluginBody(args map[string]any) []byte {
	return body("team-a", map[string]any{PluginName: map[string]any{"args": args}})
}

func post(t *testing.T, s http.Handler, token string, b []byte) (int, ExecuteReply, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, ExecutePath, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var reply ExecuteReply
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("reply is not JSON: %v: %s", err, rec.Body)
		}
	}
	return rec.Code, reply, rec.Body.String()
}

func with(args map[string]any, key string, value any) map[string]any {
	if value == nil {
		delete(args, key)
	} else {
		args[key] = value
	}
	return args
}

func TestExecuteContract(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		body       []byte
		wantStatus int
		wantPhase  string // "" means the reply must be {}
		wantInMsg  string
		wantRuns   int32
	}{
		{name: "missing token", token: "", body: driverPluginBody(validArgs()), wantStatus: 403},
		{name: "wrong token", token: strings.Repeat("x", 32), body: driverPluginBody(validArgs()), wantStatus: 403},
		{name: "token prefix only", token: testToken[:16], body: driverPluginBody(validArgs()), wantStatus: 403},
		{name: "another plugin's template", token: testToken, body: body("team-a", map[string]any{"hello": map[string]any{}}), wantStatus: 200},
		{name: "template without plugin", token: testToken, body: []byte(`{"workflow":{"metadata":{"namespace":"team-a"}},"template":{"name":"x","container":{}}}`), wantStatus: 200},
		{name: "unknown type", token: testToken, body: driverPluginBody(with(validArgs(), "type", "PIPELINE")), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "type": unknown driver type "PIPELINE"`},
		{name: "missing type", token: testToken, body: driverPluginBody(with(validArgs(), "type", nil)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "type": is required`},
		{name: "missing container arg", token: testToken, body: driverPluginBody(with(validArgs(), "container", nil)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "container": is required for CONTAINER`},
		{name: "missing dag_execution_id", token: testToken, body: driverPluginBody(with(validArgs(), "dag_execution_id", nil)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "dag_execution_id"`},
		{name: "malformed component", token: testToken, body: driverPluginBody(with(validArgs(), "component", `{"executorLabel":`)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "component": malformed JSON`},
		{name: "malformed task", token: testToken, body: driverPluginBody(with(validArgs(), "task", `not json`)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "task": malformed JSON`},
		{name: "malformed container", token: testToken, body: driverPluginBody(with(validArgs(), "container", `{"image":3}`)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "container": malformed JSON`},
		{name: "malformed kubernetes_config", token: testToken, body: driverPluginBody(with(validArgs(), "kubernetes_config", `{"secretAsEnv":{}}`)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "kubernetes_config": malformed JSON`},
		{name: "malformed runtime_config", token: testToken, body: driverPluginBody(with(with(with(with(validArgs(), "type", "ROOT_DAG"), "task", ""), "dag_execution_id", "0"), "runtime_config", `{"parameterValues":[`)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "runtime_config": malformed JSON`},
		{name: "file reference refused", token: testToken, body: driverPluginBody(with(validArgs(), "component", "@/etc/passwd")), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "component": file references`},
		{name: "non-integer dag_execution_id", token: testToken, body: driverPluginBody(with(validArgs(), "dag_execution_id", "{{inputs.parameters.parent-dag-id}}")), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "dag_execution_id": must be an integer`},
		{name: "bad boolean", token: testToken, body: driverPluginBody(with(validArgs(), "cache_disabled", "maybe")), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "cache_disabled": must be true or false`},
		{name: "object where a string belongs", token: testToken, body: driverPluginBody(with(validArgs(), "run_id", map[string]any{"a": 1})), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "run_id": must be a string`},
		{name: "task without name", token: testToken, body: driverPluginBody(with(validArgs(), "task", `{}`)), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `argument "task": taskInfo.name must not be empty`},
		{name: "plugin body not an object", token: testToken, body: body("team-a", map[string]any{PluginName: "args"}), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: "template.plugin.driver-plugin"},
		{name: "other namespace", token: testToken, body: body("team-b", map[string]any{PluginName: map[string]any{"args": validArgs()}}), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: `workflow namespace "team-b" differs`},
		{name: "no namespace", token: testToken, body: body("", map[string]any{PluginName: map[string]any{"args": validArgs()}}), wantStatus: 200, wantPhase: PhaseFailed, wantInMsg: "namespace is empty"},
		{name: "unknown extra args accepted", token: testToken, body: driverPluginBody(with(validArgs(), "future_flag", "x")), wantStatus: 200, wantPhase: PhaseSucceeded, wantRuns: 1},
		{name: "valid call", token: testToken, body: driverPluginBody(validArgs()), wantStatus: 200, wantPhase: PhaseSucceeded, wantRuns: 1},
		{name: "not JSON", token: testToken, body: []byte("{"), wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &countingDriver{}
			s := newTestServer(t, d)
			status, reply, raw := post(t, s, tc.token, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", status, tc.wantStatus, raw)
			}
			if status == http.StatusOK {
				if tc.wantPhase == "" && (reply.Node != nil || reply.Requeue != nil) {
					t.Fatalf("want {} for a template that is not ours, got %s", raw)
				}
				if tc.wantPhase != "" && (reply.Node == nil || reply.Node.Phase != tc.wantPhase) {
					t.Fatalf("phase: got %s, want %s", raw, tc.wantPhase)
				}
				if tc.wantInMsg != "" && !strings.Contains(reply.Node.Message, tc.wantInMsg) {
					t.Fatalf("message %q does not contain %q", reply.Node.Message, tc.wantInMsg)
				}
			}
			if got := d.calls.Load(); got != tc.wantRuns {
				t.Fatalf("driver ran %d times, want %d", got, tc.wantRuns)
			}
		})
	}
}

func TestUnreadableTokenAnswers503(t *testing.T) {
	d := &countingDriver{}
	s := newTestServer(t, d, func(c *Config) { c.Auth = NewTokenFile(filepath.Join(t.TempDir(), "absent")) })
	status, _, _ := post(t, s, testToken, driverPluginBody(validArgs()))
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", status)
	}
	if d.calls.Load() != 0 {
		t.Fatal("driver ran without a token check")
	}
}

func TestTokenFileRewrittenIsPickedUp(t *testing.T) {
	path := writeToken(t)
	auth := NewTokenFile(path)
	if ok, err := auth.Check("Bearer " + testToken); !ok || err != nil {
		t.Fatalf("first token refused: %v", err)
	}
	next := strings.Repeat("n", 32)
	if err := os.WriteFile(path, []byte(next), 0o440); err != nil {
		t.Fatal(err)
	}
	if ok, _ := auth.Check("Bearer " + next); !ok {
		t.Fatal("rewritten token refused")
	}
	if ok, _ := auth.Check("Bearer " + testToken); ok {
		t.Fatal("old token still accepted")
	}
}

func TestSucceededRepliesDeclaredOutputsWithDefaults(t *testing.T) {
	cached := false
	d := &countingDriver{result: &driver.Result{CachedDecision: &cached, PodSpecPatch: `{"containers":[{"name":"main"}]}`, Message: "add: execution 9"}}
	s := newTestServer(t, d)
	_, reply, raw := post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node == nil || reply.Node.Phase != PhaseSucceeded || reply.Node.Message != "add: execution 9" {
		t.Fatalf("unexpected reply %s", raw)
	}
	got := map[string]string{}
	for _, p := range reply.Node.Outputs.Parameters {
		got[p.Name] = p.Value
	}
	want := map[string]string{
		"pod-spec-patch":  `{"containers":[{"name":"main"}]}`,
		"cached-decision": "false",
		"condition":       "nil", // the driver's "no condition" marker, compared with != false
	}
	if len(got) != len(want) {
		t.Fatalf("outputs %v, want exactly %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestSlowCallAnswersRunningThenResult(t *testing.T) {
	d := &countingDriver{release: make(chan struct{})}
	s := newTestServer(t, d, func(c *Config) { c.Wait = 20 * time.Millisecond; c.Requeue = 3 * time.Second })
	_, reply, raw := post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node == nil || reply.Node.Phase != PhaseRunning || reply.Requeue == nil || time.Duration(*reply.Requeue) != 3*time.Second {
		t.Fatalf("want Running with requeue 3s, got %s", raw)
	}
	if !strings.Contains(raw, `"requeue":"3s"`) {
		t.Fatalf("requeue must be a Go duration string: %s", raw)
	}
	close(d.release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, reply, raw = post(t, s, testToken, driverPluginBody(validArgs()))
		if reply.Node.Phase == PhaseSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call never finished: %s", raw)
		}
	}
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("driver ran %d times, want 1", n)
	}
}

func TestIdenticalCallsRunOnce(t *testing.T) {
	d := &countingDriver{release: make(chan struct{})}
	s := newTestServer(t, d)
	const workers = 16
	var wg sync.WaitGroup
	replies := make([]string, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, _, replies[i] = post(t, s, testToken, driverPluginBody(validArgs()))
		}(i)
	}
	// Let every worker reach the run before it finishes.
	deadline := time.Now().Add(5 * time.Second)
	for d.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(d.release)
	wg.Wait()
	for i := 1; i < workers; i++ {
		if replies[i] != replies[0] {
			t.Fatalf("reply %d differs: %s vs %s", i, replies[i], replies[0])
		}
	}
	_, _, again := post(t, s, testToken, driverPluginBody(validArgs()))
	if again != replies[0] {
		t.Fatalf("repeated call got %s, want %s", again, replies[0])
	}
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("driver ran %d times for identical calls, want 1", n)
	}
	// A different iteration is a different call.
	post(t, s, testToken, driverPluginBody(with(validArgs(), "iteration_index", "3")))
	if n := d.calls.Load(); n != 2 {
		t.Fatalf("driver ran %d times, want 2 after a distinct call", n)
	}
}

func TestTransientErrorRequeuesAndRunsAgain(t *testing.T) {
	d := &countingDriver{err: driver.Transient(errors.New("metadata store unavailable"))}
	s := newTestServer(t, d, func(c *Config) { c.TransientRequeue = 7 * time.Second })
	_, reply, raw := post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseRunning || reply.Requeue == nil || time.Duration(*reply.Requeue) != 7*time.Second {
		t.Fatalf("want Running + requeue 7s, got %s", raw)
	}
	if !strings.Contains(reply.Node.Message, "metadata store unavailable") {
		t.Fatalf("message should say why: %q", reply.Node.Message)
	}
	d.err = nil // "MLMD is back"; safe: the earlier run has finished
	_, reply, raw = post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseSucceeded {
		t.Fatalf("want Succeeded after recovery, got %s", raw)
	}
	if n := d.calls.Load(); n != 2 {
		t.Fatalf("driver ran %d times, want 2", n)
	}
}

func TestDriverErrorFailsNodeAndPanicIsContained(t *testing.T) {
	d := &countingDriver{err: errors.New(`resolving input "x" of task "add": no such output`)}
	s := newTestServer(t, d)
	_, reply, _ := post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseFailed || reply.Node.Message != `resolving input "x" of task "add": no such output` {
		t.Fatalf("unexpected %+v", reply.Node)
	}
	p := &countingDriver{panics: true}
	s = newTestServer(t, p)
	_, reply, _ = post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseFailed || !strings.Contains(reply.Node.Message, "internal error") {
		t.Fatalf("panic not turned into a failure: %+v", reply.Node)
	}
}

func TestRequestCarriesWorkflowIdentity(t *testing.T) {
	d := &countingDriver{}
	s := newTestServer(t, d)
	post(t, s, testToken, driverPluginBody(validArgs()))
	req := d.last.Load()
	if req.Namespace != "team-a" || req.WorkflowName != "add-numbers-x7k2" || req.WorkflowUID != "5f6a-uid" {
		t.Fatalf("workflow identity not passed: %+v", req)
	}
	if req.Type != driver.Container || req.DAGExecutionID != 12 || req.IterationIndex != -1 || req.Container.GetImage() != "python:3.11" {
		t.Fatalf("args not decoded: %+v", req)
	}
	if req.KubernetesConfig != nil {
		t.Fatal(`kubernetes_config "" must mean no config`)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := newTestServer(t, &countingDriver{})
	post(t, s, testToken, driverPluginBody(validArgs()))
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Fatalf("%s = %d", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, series := range []string{
		`kfp_driver_plugin_calls_total{phase="Succeeded",type="CONTAINER"} 1`,
		`kfp_driver_plugin_call_duration_seconds_count{type="CONTAINER"} 1`,
		"kfp_driver_plugin_runs_in_flight 0",
	} {
		if !strings.Contains(rec.Body.String(), series) {
			t.Errorf("metrics lack %q", series)
		}
	}
	s.SetReady(false)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining = %d", rec.Code)
	}
}

func TestGetOnExecuteIsNot404(t *testing.T) {
	s := newTestServer(t, &countingDriver{})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, ExecutePath, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s = %d, want 405", ExecutePath, rec.Code)
	}
}
