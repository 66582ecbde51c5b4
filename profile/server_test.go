package profile

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, SyncPath, strings.NewReader(body)))
	return rec
}

func requestBody(t *testing.T, parentKey, childrenKey string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"controller": map[string]any{"kind": "DecoratorController"},
		parentKey:    namespace(true),
		childrenKey:  emptyAttachments(),
		"finalizing": false,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerSync(t *testing.T) {
	h := NewHandler(testSettings(), NewPodMetadataSource(writeMetadata(t, `{"sidecar.istio.io/inject":"true"}`, `{}`)), testKeys())
	rec := post(t, h, requestBody(t, "object", "attachments"))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var resp struct {
		Status      map[string]any   `json:"status"`
		Attachments []map[string]any `json:"attachments"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Status[ReadyKey] != "False" || len(resp.Attachments) != 10 {
		t.Fatalf("status %v, %d attachments (want 10 with a PodDefault)", resp.Status, len(resp.Attachments))
	}

	// Behind a CompositeController: "parent"/"children" in, "children" out.
	rec = post(t, h, requestBody(t, "parent", "children"))
	var composite map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &composite); err != nil || composite["children"] == nil || composite["attachments"] != nil {
		t.Fatalf("composite reply %s (%v)", rec.Body, err)
	}
}

func TestHandlerErrors(t *testing.T) {
	broken := writeMetadata(t, `{"a":`, `{}`)
	h := NewHandler(testSettings(), NewPodMetadataSource(broken), testKeys())
	cases := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{http.MethodPost, SyncPath, `{`, http.StatusBadRequest, "decode sync request"},
		{http.MethodPost, SyncPath, `{"attachments":{}}`, http.StatusBadRequest, `no "object"`},
		{http.MethodPost, SyncPath, `{"object":{"metadata":{}}}`, http.StatusBadRequest, "no metadata.name"},
		{http.MethodPost, SyncPath, requestBody(t, "object", "attachments"), http.StatusInternalServerError, "driver-pod-labels"},
		{http.MethodGet, SyncPath, "", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, HealthzPath, "", http.StatusOK, "ok"},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s %s %.30q: %d %q, want %d containing %q", c.method, c.path, c.body, rec.Code, rec.Body, c.code, c.want)
		}
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, NewHandler(testSettings(), NewPodMetadataSource(""), testKeys()), "127.0.0.1:0", time.Second, ready)
	}()
	addr := <-ready
	resp, err := http.Get("http://" + addr + HealthzPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An admin's change of the plugin's pod metadata reaches the very next sync,
// without restarting the hook.
func TestHandlerPicksUpMetadataChange(t *testing.T) {
	dir := writeMetadata(t, `{"sidecar.istio.io/inject":"false"}`, `{}`)
	h := NewHandler(testSettings(), NewPodMetadataSource(dir), testKeys())
	inject := func() any {
		var resp Response
		if err := json.Unmarshal(post(t, h, requestBody(t, "object", "attachments")).Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		for _, a := range resp.Attachments {
			if a["kind"] == "PodDefault" {
				return a["spec"].(map[string]any)["labels"].(map[string]any)["sidecar.istio.io/inject"]
			}
		}
		return nil
	}
	if got := inject(); got != "false" {
		t.Fatalf("before: %v", got)
	}
	writeFile(t, dir, LabelsFile, `{"sidecar.istio.io/inject":"true"}`)
	if got := inject(); got != "true" {
		t.Fatalf("after the file changed: %v", got)
	}
}

func BenchmarkSyncHandler(b *testing.B) {
	h := NewHandler(testSettings(), NewPodMetadataSource(""), testKeys())
	body, _ := json.Marshal(map[string]any{"object": namespace(true), "attachments": emptyAttachments()})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, SyncPath, strings.NewReader(string(body))))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
