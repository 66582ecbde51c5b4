package profile

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/golang/glog"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/httpserve"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
)

// Paths served.
const (
	SyncPath    = "/sync"
	HealthzPath = "/healthz"
)

// maxBody bounds a sync request: the observed attachments of one namespace
// (a few Secrets and ConfigMaps) are far smaller.
const maxBody = 32 << 20

// Handler serves the sync hook and a health check.
type Handler struct {
	Settings Settings
	Metadata *PodMetadataSource
	Keys     objectstore.Issuer
	mux      *http.ServeMux
}

// NewHandler wires the routes.
func NewHandler(s Settings, md *PodMetadataSource, keys objectstore.Issuer) *Handler {
	h := &Handler{Settings: s, Metadata: md, Keys: keys, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST "+SyncPath, h.sync)
	h.mux.HandleFunc("GET "+HealthzPath, func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// sync answers 400 for a request it cannot read and 500 when the plugin
// pod metadata cannot be read: metacontroller then retries and leaves the
// existing attachments alone, which is safer than syncing without it.
func (h *Handler) sync(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req, err := DecodeRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := h.respond(r.Context(), req)
	if err != nil {
		glog.Errorf("sync %s: %v", name(req.Object), err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out, err := json.Marshal(wireBody(req, resp))
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
	// Names and counts only: attachments include Secrets.
	glog.Infof("sync %s: %d attachments, %s=%v, %s", name(req.Object), len(resp.Attachments),
		ReadyKey, resp.Status[ReadyKey], time.Since(start).Round(time.Microsecond))
	if msg, ok := resp.Status[ObjectStoreErrorKey]; ok {
		glog.Errorf("sync %s: %v (retried on the next sync)", name(req.Object), msg)
	}
}

func (h *Handler) respond(ctx context.Context, req *Request) (*Response, error) {
	md, err := h.Metadata.Load()
	if err != nil {
		return nil, err
	}
	return Sync(ctx, req, h.Settings, md, h.Keys)
}

// wireBody names the attachments as the caller did: "children" for a
// CompositeController, "attachments" for a DecoratorController.
func wireBody(req *Request, resp *Response) any {
	if req.composite() {
		return map[string]any{"status": resp.Status, "children": resp.Attachments}
	}
	return resp
}

// Serve listens on addr until ctx is done, then lets calls in progress
// finish for up to grace. ready, if not nil, receives the bound address.
func Serve(ctx context.Context, h http.Handler, addr string, grace time.Duration, ready chan<- string) error {
	return httpserve.Run(ctx, h, addr, "the profile sync hook (POST "+SyncPath+")", grace, ready, nil)
}
