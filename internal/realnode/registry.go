package realnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is an in-memory OCI registry on loopback that containerd uses as
// the mirror of every registry host. Push stores an image under the path of
// its reference (the registry host dropped, as a mirror is asked for it);
// with a Fallback image set, a pull of any tag nobody pushed gets that image
// (pushed under the asked name first), so that workflows naming arbitrary
// user images (python:3.11, alpine, ...) run on the test image.
type Registry struct {
	Addr string // 127.0.0.1:<port>

	lis     net.Listener
	srv     *http.Server
	handler http.Handler

	mu       sync.Mutex
	fallback v1.Image
	pushed   map[string]bool // repository:tag
}

func startRegistry() (*Registry, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Registry{Addr: lis.Addr().String(), lis: lis, handler: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))),
		pushed: map[string]bool{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serveHTTP)}
	go func() { _ = r.srv.Serve(lis) }()
	return r, nil
}

// SetFallback sets the image served for tags nobody pushed; nil turns it off.
func (r *Registry) SetFallback(img v1.Image) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallback = img
}

// Push stores img under ref's repository path and tag (e.g.
// "ghcr.io/kubeflow/kfp-launcher:latest" as kubeflow/kfp-launcher:latest).
func (r *Registry) Push(ctx context.Context, ref string, img v1.Image) error {
	tag, err := r.localTag(ref)
	if err != nil {
		return err
	}
	// Marked before the write: the push itself asks for the tag first, which
	// must not trigger the fallback.
	key := tag.RepositoryStr() + ":" + tag.TagStr()
	r.mu.Lock()
	r.pushed[key] = true
	r.mu.Unlock()
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		r.mu.Lock()
		delete(r.pushed, key)
		r.mu.Unlock()
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

func (r *Registry) localTag(ref string) (name.Tag, error) {
	t, err := name.NewTag(ref)
	if err != nil {
		return name.Tag{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	return name.NewTag(r.Addr+"/"+t.RepositoryStr()+":"+t.TagStr(), name.Insecure)
}

// serveHTTP fills in the fallback image before a manifest pull by tag.
func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if repo, tag, ok := manifestByTag(req); ok {
		if err := r.ensure(req.Context(), repo, tag); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	r.handler.ServeHTTP(w, req)
}

// manifestByTag matches GET/HEAD /v2/<repo>/manifests/<tag> (not a digest).
func manifestByTag(req *http.Request) (repo, tag string, ok bool) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return "", "", false
	}
	p, ok := strings.CutPrefix(req.URL.Path, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(p, "/manifests/")
	if i <= 0 {
		return "", "", false
	}
	repo, tag = p[:i], p[i+len("/manifests/"):]
	return repo, tag, !strings.Contains(tag, ":")
}

func (r *Registry) ensure(ctx context.Context, repo, tag string) error {
	r.mu.Lock()
	img, known := r.fallback, r.pushed[repo+":"+tag]
	r.mu.Unlock()
	if known || img == nil {
		return nil
	}
	return r.Push(ctx, r.Addr+"/"+repo+":"+tag, img)
}

func (r *Registry) stop() error {
	err := r.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
