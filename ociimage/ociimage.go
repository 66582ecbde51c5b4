// Package ociimage builds container images without a container engine.
//
// An Image is a list of files plus the runtime config; WriteTarball writes one
// or more of them as a single tar that is at the same time an OCI image layout
// (oci-layout, index.json, blobs/sha256/...) and a `docker save` archive
// (manifest.json pointing at the same blobs), the shape Docker 25+ writes.
// That one file loads with `docker load`, `podman load`, `ctr images import`
// and `skopeo copy oci-archive:...`.
//
// Layers, config, manifests and the layout are built by go-containerregistry.
// Every timestamp is SOURCE_DATE_EPOCH (or the Unix epoch) and every listing
// is sorted, so the same inputs always give the same digest.
package ociimage

import (
	"compress/gzip"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations on each index.json entry. containerd, nerdctl and podman name
// the imported image after ImageNameAnnotation; skopeo and other OCI tools
// select an image by RefNameAnnotation, the tag alone (as `docker save` does).
const (
	RefNameAnnotation   = "org.opencontainers.image.ref.name"
	ImageNameAnnotation = "io.containerd.image.name"
)

// DefaultPath is the PATH the helper images set: no runtime adds one for an
// image that lacks it, and a shell without PATH finds no applet.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// File is one entry of the image's single layer. Exactly one of Dir, Link,
// Source or Data describes the content (Data may be empty: an empty file).
type File struct {
	Path string      // absolute path in the image, e.g. /etc/passwd
	Mode os.FileMode // permission bits plus os.ModeSticky/Setuid/Setgid; 0 = default (0755 dirs, 0644 files, Source's own bits)
	UID  int
	GID  int
	Data []byte // file content
	// Source is a host file to copy; it is read when the image is built.
	Source string
	Link   string // symlink target
	Dir    bool
}

// Image is a single-layer linux image.
type Image struct {
	// Name is the full reference with registry and tag, e.g.
	// ghcr.io/kfp-driver-plugin/kfp-driver-plugin:0.1.0. Short names are
	// refused because docker, containerd and podman expand them differently.
	Name         string
	Files        []File
	User         string
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	ExposedPorts []string // "7492" or "7492/tcp"
	Labels       map[string]string
	// Architecture defaults to the one this program runs on, which is the
	// one `go build` and the host's packages produce without cross-compiling.
	Architecture string
	// FastCompression gzips the layer at gzip.BestSpeed instead of
	// BestCompression: for test images, where a big layer (a Python
	// runtime) would otherwise take most of the build time under -race.
	// It changes the layer's digest, not its content.
	FastCompression bool
}

// Digest returns the manifest digest ("sha256:...") the image gets in a
// tarball written by WriteTarball; registries and runtimes report the same.
func Digest(img Image) (string, error) {
	built, _, err := build(img)
	if err != nil {
		return "", err
	}
	d, err := built.Digest()
	if err != nil {
		return "", fmt.Errorf("image %s: digest: %w", img.Name, err)
	}
	return d.String(), nil
}

// epoch is every timestamp in the image: SOURCE_DATE_EPOCH when set (the
// reproducible-builds convention), else 1970-01-01.
func epoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// parseName accepts only fully qualified tagged references.
func parseName(s string) (name.Tag, error) {
	tag, err := name.NewTag(s, name.StrictValidation)
	if err != nil {
		return name.Tag{}, fmt.Errorf("image name %q must be registry/repository:tag: %w", s, err)
	}
	return tag, nil
}

// build turns img into a go-containerregistry image with OCI media types.
func build(img Image) (v1.Image, name.Tag, error) {
	tag, err := parseName(img.Name)
	if err != nil {
		return nil, name.Tag{}, err
	}
	created, err := epoch()
	if err != nil {
		return nil, name.Tag{}, err
	}
	level := gzip.BestCompression
	if img.FastCompression {
		level = gzip.BestSpeed
	}
	layer, err := newLayer(img.Files, created, level)
	if err != nil {
		return nil, name.Tag{}, fmt.Errorf("image %s: %w", img.Name, err)
	}
	cfg, err := configFile(img, created)
	if err != nil {
		return nil, name.Tag{}, err
	}
	base, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, name.Tag{}, fmt.Errorf("image %s: config: %w", img.Name, err)
	}
	base = mutate.ConfigMediaType(mutate.MediaType(base, types.OCIManifestSchema1), types.OCIConfigJSON)
	out, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: "ociimage (kfp-driver-plugin)"},
	})
	if err != nil {
		return nil, name.Tag{}, fmt.Errorf("image %s: append layer: %w", img.Name, err)
	}
	return out, tag, nil
}

func configFile(img Image, created time.Time) (*v1.ConfigFile, error) {
	arch := img.Architecture
	if arch == "" {
		arch = runtime.GOARCH
	}
	ports, err := exposedPorts(img.ExposedPorts)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Name, err)
	}
	return &v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			User:         img.User,
			Entrypoint:   img.Entrypoint,
			Cmd:          img.Cmd,
			Env:          img.Env,
			WorkingDir:   img.WorkingDir,
			ExposedPorts: ports,
			Labels:       img.Labels,
		},
	}, nil
}

// exposedPorts writes ports the way `EXPOSE` records them: "port/proto",
// tcp when no protocol is given.
func exposedPorts(ports []string) (map[string]struct{}, error) {
	if len(ports) == 0 {
		return nil, nil
	}
	out := make(map[string]struct{}, len(ports))
	for _, p := range ports {
		num, proto, found := strings.Cut(p, "/")
		if !found {
			proto = "tcp"
		}
		if n, err := strconv.ParseUint(num, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("exposed port %q: not a port number", p)
		}
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, fmt.Errorf("exposed port %q: protocol must be tcp, udp or sctp", p)
		}
		out[num+"/"+proto] = struct{}{}
	}
	return out, nil
}
