package ociimage

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestBusyboxImage: every applet busybox lists is a link that resolves,
// inside the image, to the busybox binary, and the commands the e2e pods
// run are on PATH.
func TestBusyboxImage(t *testing.T) {
	requireFile(t, BusyboxPath, "busybox-static")
	t.Setenv("SOURCE_DATE_EPOCH", "")
	img, err := Busybox("localhost/kfp-e2e/busybox:test")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "busybox.tar")
	if err := WriteTarball(out, img); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(img.Name)
	if err != nil {
		t.Fatal(err)
	}
	read, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	files := imageFiles(t, read)

	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	bb := files["bin/busybox"]
	if bb.hdr == nil || bb.hdr.Typeflag != tar.TypeReg || bb.hdr.Mode != 0o755 || !bytes.Equal(bb.data, bin) {
		t.Fatal("/bin/busybox is not the host's binary with mode 0755")
	}

	linked := map[string]bool{}
	for n, f := range files {
		if f.hdr.Typeflag != tar.TypeSymlink {
			continue
		}
		if got := resolveLink(t, files, n); got != "bin/busybox" {
			t.Errorf("/%s resolves to /%s, want /bin/busybox", n, got)
		}
		linked[path.Base(n)] = true
	}
	for _, applet := range busyboxList(t) {
		if !linked[applet] && applet != "busybox" {
			t.Errorf("applet %s has no link", applet)
		}
	}
	for _, cmd := range []string{"sh", "sleep", "cat", "echo", "mkdir", "ls", "env"} {
		if !onPath(files, img.Env, cmd) {
			t.Errorf("%s is not on the image's PATH", cmd)
		}
	}
	if tmp := files["tmp/"]; tmp.hdr == nil || tmp.hdr.Mode != 0o1777 {
		t.Error("/tmp is not a 1777 directory")
	}
	if !slices.Equal(mustConfig(t, read).Config.Cmd, []string{"sh"}) {
		t.Errorf("cmd %v, want [sh]", mustConfig(t, read).Config.Cmd)
	}
}

// resolveLink follows symlinks inside the layer the way the kernel would
// inside the container's root: absolute targets from /, relative ones from
// the link's directory.
func resolveLink(t *testing.T, files map[string]tarEntry, p string) string {
	t.Helper()
	for hops := 0; hops < 40; hops++ {
		f, ok := files[p]
		if !ok {
			return p + " (missing)"
		}
		if f.hdr.Typeflag != tar.TypeSymlink {
			return p
		}
		target := f.hdr.Linkname
		if !strings.HasPrefix(target, "/") {
			target = path.Join("/", path.Dir(p), target)
		}
		p = strings.TrimPrefix(path.Clean(target), "/")
	}
	t.Fatalf("symlink loop at /%s", p)
	return ""
}

func onPath(files map[string]tarEntry, env []string, cmd string) bool {
	for _, e := range env {
		dirs, ok := strings.CutPrefix(e, "PATH=")
		if !ok {
			continue
		}
		for _, dir := range strings.Split(dirs, ":") {
			if _, ok := files[strings.TrimPrefix(path.Join(dir, cmd), "/")]; ok {
				return true
			}
		}
	}
	return false
}

func busyboxList(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}
