package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// TestOversizedRequestFailsNodeNamingLimit (issue 12, defect 4): a body over
// the limit answers 200 with a Failed node naming the limit (Argo fails the
// whole workflow on other 4xx), and the driver does not run.
func TestOversizedRequestFailsNodeNamingLimit(t *testing.T) {
	d := &countingDriver{}
	s := newTestServer(t, d)
	big := strings.Repeat("x", DefaultMaxBodyBytes+1)
	status, reply, raw := post(t, s, testToken, driverPluginBody(with(validArgs(), "run_display_name", big)))
	if status != http.StatusOK || reply.Node == nil || reply.Node.Phase != PhaseFailed {
		t.Fatalf("status %d, reply %.300s: want 200 with a Failed node", status, raw)
	}
	if want := fmt.Sprintf("limit of %d bytes (--max-request-bytes)", DefaultMaxBodyBytes); !strings.Contains(reply.Node.Message, want) {
		t.Fatalf("message %q does not name the limit %q", reply.Node.Message, want)
	}
	if d.calls.Load() != 0 {
		t.Fatal("the driver ran")
	}
}

// TestRememberedOutcomesBoundedInBytes (issue 12, defect 4): outcomes with
// large pod spec patches are remembered up to MaxBytes, not by count only.
func TestRememberedOutcomesBoundedInBytes(t *testing.T) {
	patch := strings.Repeat("p", 1<<20)
	d := &countingDriver{result: &driver.Result{PodSpecPatch: patch, Message: "ok"}}
	cfg := RunsConfig{RunTimeout: time.Minute, MaxEntries: 2048, MaxAge: time.Hour, FailedMaxAge: time.Minute, MaxBytes: 3 << 20}
	r, _ := newTestRuns(d, cfg)
	defer r.Close()
	for i := range 8 {
		res, err, done := r.Do(context.Background(), fmt.Sprint("k", i), &driver.Request{}, 5*time.Second)
		if !done || err != nil || res.PodSpecPatch != patch {
			t.Fatalf("call %d: done=%v err=%v", i, done, err)
		}
		if b := r.Bytes(); b > cfg.MaxBytes {
			t.Fatalf("after %d calls %d bytes remembered, bound %d", i+1, b, cfg.MaxBytes)
		}
	}
	if n := r.Len(); n < 1 || n > 3 {
		t.Fatalf("%d outcomes remembered, want 1 to 3 of 1 MiB each under 3 MiB", n)
	}
	// The newest is still remembered: repeating it does not run again.
	r.Do(context.Background(), "k7", &driver.Request{}, 5*time.Second)
	if n := d.calls.Load(); n != 8 {
		t.Fatalf("driver ran %d times, want 8", n)
	}
}

// TestMessagesAreClipped (issue 12, defect 5): a huge argument echoed in a
// message, or a huge driver message, is cut to MaxMessageBytes, keeping the
// start that names the argument, and stays valid UTF-8.
func TestMessagesAreClipped(t *testing.T) {
	s := newTestServer(t, &countingDriver{})
	huge := strings.Repeat("é", 1<<19) // 1 MiB of two-byte runes
	_, reply, _ := post(t, s, testToken, driverPluginBody(with(validArgs(), "type", huge)))
	msg := reply.Node.Message
	if reply.Node.Phase != PhaseFailed || len(msg) > MaxMessageBytes || !strings.HasPrefix(msg, `argument "type": unknown driver type`) {
		t.Fatalf("phase %s, %d bytes, starting %.80q: want Failed, at most %d bytes, naming the argument",
			reply.Node.Phase, len(msg), msg, MaxMessageBytes)
	}
	if !utf8.ValidString(msg) || !strings.Contains(msg, "bytes omitted") {
		t.Fatalf("clipped message invalid or unmarked: %.200q", msg)
	}
	long := &countingDriver{result: &driver.Result{Message: strings.Repeat("m", 1<<20)}}
	s = newTestServer(t, long)
	_, reply, _ = post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseSucceeded || len(reply.Node.Message) > MaxMessageBytes {
		t.Fatalf("driver message of 1 MiB: phase %s, %d bytes", reply.Node.Phase, len(reply.Node.Message))
	}
}

// TestTransientErrorsHaveABudget (issue 12, defect 7): a call that keeps
// failing transiently answers Running + requeue until its budget is spent,
// then fails naming the cause and how long it was retried; a later call of
// the node starts a new budget.
func TestTransientErrorsHaveABudget(t *testing.T) {
	d := &countingDriver{err: driver.Transient(errors.New("ml-pipeline unreachable"))}
	s := newTestServer(t, d, func(c *Config) { c.TransientBudget = time.Minute })
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	for i, advance := range []time.Duration{0, 30 * time.Second, 29 * time.Second} {
		clock = clock.Add(advance)
		_, reply, raw := post(t, s, testToken, driverPluginBody(validArgs()))
		if reply.Node.Phase != PhaseRunning {
			t.Fatalf("call %d within the budget: want Running, got %s", i, raw)
		}
	}
	clock = clock.Add(2 * time.Second)
	_, reply, raw := post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseFailed || !strings.Contains(reply.Node.Message, "retrying for 1m1s") ||
		!strings.Contains(reply.Node.Message, "ml-pipeline unreachable") {
		t.Fatalf("past the budget: want Failed naming cause and duration, got %s", raw)
	}
	_, reply, raw = post(t, s, testToken, driverPluginBody(validArgs()))
	if reply.Node.Phase != PhaseRunning {
		t.Fatalf("a retry of the node starts a new budget: got %s", raw)
	}
}

// TestEveryReplyIsCounted (issue 12, defect 8): 405, 400, 403, oversized and
// undecodable calls all reach kfp_driver_plugin_calls_total, with a fixed
// type label for unknown types.
func TestEveryReplyIsCounted(t *testing.T) {
	s := newTestServer(t, &countingDriver{})
	send := func(method, token string, body []byte) {
		req := httptest.NewRequest(method, ExecutePath, strings.NewReader(string(body)))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		s.ServeHTTP(httptest.NewRecorder(), req)
	}
	send(http.MethodGet, testToken, nil)
	send(http.MethodPost, testToken, []byte("{"))
	send(http.MethodPost, "wrong", driverPluginBody(validArgs()))
	send(http.MethodPost, testToken, driverPluginBody(with(validArgs(), "run_display_name", strings.Repeat("x", DefaultMaxBodyBytes))))
	send(http.MethodPost, testToken, driverPluginBody(with(validArgs(), "type", "NOPE")))
	send(http.MethodPost, testToken, body("team-a", map[string]any{"other": map[string]any{}}))
	send(http.MethodPost, testToken, driverPluginBody(with(validArgs(), "container", nil)))
	send(http.MethodPost, testToken, driverPluginBody(validArgs()))
	const sent = 8

	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	total := 0
	series := regexp.MustCompile(`(?m)^kfp_driver_plugin_calls_total\{phase="([^"]*)",type="([^"]*)"\} (\d+)$`)
	for _, m := range series.FindAllStringSubmatch(rec.Body.String(), -1) {
		if m[2] != "ROOT_DAG" && m[2] != "DAG" && m[2] != "CONTAINER" && m[2] != unknownType {
			t.Errorf("type label %q is not fixed", m[2])
		}
		n, _ := strconv.Atoi(m[3])
		total += n
	}
	if total != sent {
		t.Fatalf("calls_total sums to %d, want %d:\n%s", total, sent, rec.Body)
	}
	for _, want := range []string{
		`{phase="method_not_allowed",type="unknown"} 1`, `{phase="bad_request",type="unknown"} 1`,
		`{phase="denied",type="unknown"} 1`, `{phase="Failed",type="CONTAINER"} 1`, `{phase="Failed",type="unknown"} 2`,
	} {
		if !strings.Contains(rec.Body.String(), "kfp_driver_plugin_calls_total"+want) {
			t.Errorf("metrics lack calls_total%s", want)
		}
	}
}

// TestSlowBodyIsCutOff (issue 12, defect 9): a client that sends headers and
// then stalls its body gets an answer (503, so Argo's agent would retry)
// once the body timeout passes, instead of holding the connection forever.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := newTestServer(t, &countingDriver{}, func(c *Config) { c.BodyTimeout = 200 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, s, "127.0.0.1:0", time.Second, ready) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := <-ready

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"workflow\":", ExecutePath, testToken)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // the test's own bound, far above the server's
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body (server kept waiting): %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "not received within") {
		t.Fatalf("stalled body: %d %s, want 503 naming the timeout", resp.StatusCode, b)
	}
}
