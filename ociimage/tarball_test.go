package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// wantFile is what a layer member must look like.
type wantFile struct {
	typeflag byte
	mode     int64
	uid, gid int
	data     string
	link     string
}

// sampleImages covers every File kind: a copied host file (its mode kept), a
// data file with owner and mode, a sticky directory, a symlink, an empty
// file, and parents that only exist implicitly.
func sampleImages(t *testing.T) ([]Image, map[string]wantFile) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho tool\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, 0o750); err != nil { // independent of the umask
		t.Fatal(err)
	}
	app := Image{
		Name: "registry.example.test/team/app:1.2.3",
		Files: []File{
			{Path: "/app/tool", Source: src},
			{Path: "/etc/app.conf", Data: []byte("k=v\n"), UID: 1000, GID: 2000, Mode: 0o640},
			{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
			{Path: "/usr/bin/tool", Link: "/app/tool"},
			{Path: "/empty", Data: []byte{}},
		},
		User:         "1000:2000",
		Entrypoint:   []string{"/app/tool"},
		Cmd:          []string{"run", "--fast"},
		Env:          []string{"PATH=/usr/bin", "A=b"},
		WorkingDir:   "/app",
		ExposedPorts: []string{"8080", "53/udp"},
		Labels:       map[string]string{"org.opencontainers.image.title": "app"},
	}
	other := Image{
		Name:  "localhost:5000/other:v2",
		Files: []File{{Path: "/hello", Data: []byte("hi")}},
		Cmd:   []string{"/hello"},
	}
	want := map[string]wantFile{
		"app/":         {typeflag: tar.TypeDir, mode: 0o755},
		"app/tool":     {typeflag: tar.TypeReg, mode: 0o750, data: "#!/bin/sh\necho tool\n"},
		"etc/":         {typeflag: tar.TypeDir, mode: 0o755},
		"etc/app.conf": {typeflag: tar.TypeReg, mode: 0o640, uid: 1000, gid: 2000, data: "k=v\n"},
		"tmp/":         {typeflag: tar.TypeDir, mode: 0o1777},
		"usr/":         {typeflag: tar.TypeDir, mode: 0o755},
		"usr/bin/":     {typeflag: tar.TypeDir, mode: 0o755},
		"usr/bin/tool": {typeflag: tar.TypeSymlink, mode: 0o777, link: "/app/tool"},
		"empty":        {typeflag: tar.TypeReg, mode: 0o644},
	}
	return []Image{app, other}, want
}

func checkFiles(t *testing.T, got map[string]tarEntry, want map[string]wantFile) {
	t.Helper()
	if len(got) != len(want) {
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		slices.Sort(names)
		t.Errorf("layer has %d members %v, want %d", len(got), names, len(want))
	}
	for n, w := range want {
		g, ok := got[n]
		if !ok {
			t.Errorf("layer lacks %s", n)
			continue
		}
		h := g.hdr
		if h.Typeflag != w.typeflag || h.Mode != w.mode || h.Uid != w.uid || h.Gid != w.gid ||
			string(g.data) != w.data || h.Linkname != w.link {
			t.Errorf("%s: type %c mode %o owner %d:%d link %q data %q; want type %c mode %o owner %d:%d link %q data %q",
				n, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, g.data, w.typeflag, w.mode, w.uid, w.gid, w.link, w.data)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mtime %v, want the epoch", n, h.ModTime)
		}
	}
}

func checkConfig(t *testing.T, cfg *v1.ConfigFile, img Image, ports ...string) {
	t.Helper()
	c := cfg.Config
	if c.User != img.User || !slices.Equal(c.Entrypoint, img.Entrypoint) || !slices.Equal(c.Cmd, img.Cmd) ||
		!slices.Equal(c.Env, img.Env) || c.WorkingDir != img.WorkingDir {
		t.Errorf("config %+v does not match %+v", c, img)
	}
	var gotPorts []string
	for p := range c.ExposedPorts {
		gotPorts = append(gotPorts, p)
	}
	slices.Sort(gotPorts)
	slices.Sort(ports)
	if !slices.Equal(gotPorts, ports) {
		t.Errorf("exposed ports %v, want %v", gotPorts, ports)
	}
	for k, v := range img.Labels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH || !cfg.Created.Equal(time.Unix(0, 0)) {
		t.Errorf("platform %s/%s created %v", cfg.OS, cfg.Architecture, cfg.Created)
	}
	if len(cfg.History) != 1 || len(cfg.RootFS.DiffIDs) != 1 {
		t.Errorf("history %d entries, diff ids %d; want 1 and 1", len(cfg.History), len(cfg.RootFS.DiffIDs))
	}
}

// TestTarballOCILayout reads the archive the way containerd, podman and
// skopeo do: oci-layout, index.json annotations, content-addressed blobs.
func TestTarballOCILayout(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	imgs, want := sampleImages(t)
	out := filepath.Join(t.TempDir(), "images.tar")
	if err := WriteTarball(out, imgs...); err != nil {
		t.Fatal(err)
	}
	members, _ := readTarFile(t, out)
	checkBlobsAddressed(t, members)
	if got := string(members["oci-layout"].data); !strings.Contains(got, `"imageLayoutVersion"`) {
		t.Fatalf("oci-layout = %q", got)
	}
	idx, err := layout.ImageIndexFromPath(extract(t, members))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(imgs) {
		t.Fatalf("index lists %d images, want %d", len(im.Manifests), len(imgs))
	}
	for i, desc := range im.Manifests {
		tag, err := name.NewTag(imgs[i].Name)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Annotations[RefNameAnnotation] != tag.TagStr() || desc.Annotations[ImageNameAnnotation] != imgs[i].Name {
			t.Errorf("image %d annotations %v", i, desc.Annotations)
		}
		if desc.MediaType != types.OCIManifestSchema1 || desc.Platform == nil || desc.Platform.OS != "linux" {
			t.Errorf("image %d descriptor %+v", i, desc)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := Digest(imgs[i]); err != nil || d != desc.Digest.String() {
			t.Errorf("Digest() = %s, %v; index has %s", d, err, desc.Digest)
		}
		if i == 0 {
			checkConfig(t, mustConfig(t, img), imgs[0], "53/udp", "8080/tcp")
			checkFiles(t, imageFiles(t, img), want)
		}
	}
}

// checkBlobsAddressed: every blob is stored under its own sha256, and the
// archive holds the layout files and manifest.json at its root.
func checkBlobsAddressed(t *testing.T, members map[string]tarEntry) {
	t.Helper()
	for _, n := range []string{"oci-layout", "index.json", "manifest.json", "blobs/", "blobs/sha256/"} {
		if _, ok := members[n]; !ok {
			t.Errorf("archive lacks %s", n)
		}
	}
	for n, m := range members {
		hexName, ok := strings.CutPrefix(n, "blobs/sha256/")
		if !ok || hexName == "" {
			continue
		}
		sum := sha256.Sum256(m.data)
		if hex.EncodeToString(sum[:]) != hexName {
			t.Errorf("blob %s has digest %x", n, sum)
		}
	}
}

// TestTarballDockerManifest reads the archive the way `docker load` and
// go-containerregistry's tarball package do: through manifest.json, which
// must name each image and point at the very blobs index.json uses.
func TestTarballDockerManifest(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	imgs, want := sampleImages(t)
	out := filepath.Join(t.TempDir(), "images.tar")
	if err := WriteTarball(out, imgs...); err != nil {
		t.Fatal(err)
	}
	members, _ := readTarFile(t, out)
	var manifest tarball.Manifest
	if err := json.Unmarshal(members["manifest.json"].data, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != len(imgs) {
		t.Fatalf("manifest.json lists %d images, want %d", len(manifest), len(imgs))
	}
	for i, img := range imgs {
		if !slices.Equal(manifest[i].RepoTags, []string{img.Name}) {
			t.Errorf("RepoTags %v, want [%s]", manifest[i].RepoTags, img.Name)
		}
		for _, p := range append([]string{manifest[i].Config}, manifest[i].Layers...) {
			if _, ok := members[p]; !ok || !strings.HasPrefix(p, "blobs/sha256/") {
				t.Errorf("manifest.json names %s, not a blob of the layout", p)
			}
		}
		tag, err := name.NewTag(img.Name)
		if err != nil {
			t.Fatal(err)
		}
		read, err := tarball.ImageFromPath(out, &tag)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			checkConfig(t, mustConfig(t, read), img, "53/udp", "8080/tcp")
			checkFiles(t, imageFiles(t, read), want)
		}
	}
}

// TestDeterministic: rebuilding the same inputs gives the same bytes, even
// when a source file's mtime changed in between; any content change, and
// SOURCE_DATE_EPOCH, change the digest.
func TestDeterministic(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	imgs, _ := sampleImages(t)
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	if err := WriteTarball(first, imgs...); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(imgs[0].Files[0].Source, future, future); err != nil {
		t.Fatal(err)
	}
	if err := WriteTarball(second, imgs...); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same images differ")
	}

	base := mustDigest(t, imgs[0])
	changed := imgs[0]
	changed.Files = slices.Clone(imgs[0].Files)
	changed.Files[1].Mode = 0o600
	if mustDigest(t, changed) == base {
		t.Error("a mode change kept the digest")
	}
	changed.Files = slices.Clone(imgs[0].Files)
	changed.Files[1].Data = []byte("k=w\n")
	if mustDigest(t, changed) == base {
		t.Error("a content change kept the digest")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if mustDigest(t, imgs[0]) == base {
		t.Error("SOURCE_DATE_EPOCH did not reach the image")
	}
	built, _, err := build(imgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if c := mustConfig(t, built).Created; !c.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created %v with SOURCE_DATE_EPOCH=1700000000", c)
	}
	for n, f := range imageFiles(t, built) {
		if !f.hdr.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("/%s: mtime %v with SOURCE_DATE_EPOCH=1700000000", n, f.hdr.ModTime)
		}
	}
}

func mustDigest(t *testing.T, img Image) string {
	t.Helper()
	d, err := Digest(img)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestInvalidInput(t *testing.T) {
	ok := Image{Name: "localhost/ok:1", Files: []File{{Path: "/f", Data: []byte("x")}}}
	with := func(mod func(*Image)) Image {
		img := ok
		img.Files = slices.Clone(ok.Files)
		mod(&img)
		return img
	}
	cases := map[string]Image{
		"short name":       with(func(i *Image) { i.Name = "app:1" }),
		"no tag":           with(func(i *Image) { i.Name = "localhost/app" }),
		"digest reference": with(func(i *Image) { i.Name = "localhost/app@sha256:" + strings.Repeat("a", 64) }),
		"relative path":    with(func(i *Image) { i.Files[0].Path = "f" }),
		"unclean path":     with(func(i *Image) { i.Files[0].Path = "/a/../f" }),
		"root":             with(func(i *Image) { i.Files[0] = File{Path: "/", Dir: true} }),
		"listed twice":     with(func(i *Image) { i.Files = append(i.Files, File{Path: "/f", Dir: true}) }),
		"two kinds":        with(func(i *Image) { i.Files[0].Link = "/g" }),
		"parent is a file": with(func(i *Image) { i.Files = append(i.Files, File{Path: "/f/g"}) }),
		"missing source":   with(func(i *Image) { i.Files[0] = File{Path: "/f", Source: "/nonexistent/file"} }),
		"source is a dir":  with(func(i *Image) { i.Files[0] = File{Path: "/f", Source: t.TempDir()} }),
		"bad port":         with(func(i *Image) { i.ExposedPorts = []string{"http"} }),
		"bad protocol":     with(func(i *Image) { i.ExposedPorts = []string{"80/icmp"} }),
		"bad source epoch": ok, // with SOURCE_DATE_EPOCH set below
	}
	for n, img := range cases {
		t.Run(n, func(t *testing.T) {
			if n == "bad source epoch" {
				t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
			} else {
				t.Setenv("SOURCE_DATE_EPOCH", "")
			}
			if _, err := Digest(img); err == nil {
				t.Error("Digest accepted it")
			}
			out := filepath.Join(t.TempDir(), "x.tar")
			if err := WriteTarball(out, img); err == nil {
				t.Error("WriteTarball accepted it")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed write left %s behind (%v)", out, err)
			}
		})
	}
	t.Run("valid base", func(t *testing.T) {
		if _, err := Digest(ok); err != nil {
			t.Fatalf("the unmodified image must build: %v", err)
		}
	})
	t.Run("same name twice", func(t *testing.T) {
		if err := WriteTarball(filepath.Join(t.TempDir(), "x.tar"), ok, ok); err == nil {
			t.Error("two images of one name accepted")
		}
	})
	t.Run("no images", func(t *testing.T) {
		if err := WriteTarball(filepath.Join(t.TempDir(), "x.tar")); err == nil {
			t.Error("empty archive accepted")
		}
	})
}
