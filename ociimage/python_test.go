package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPythonRuntime: the busybox image plus PythonRuntime holds the
// interpreter, its loader and C library, the standard library without the
// parts left out, and every library each ELF file in it needs, where the
// loader looks for it.
func TestPythonRuntime(t *testing.T) {
	requireFile(t, PythonLink, "python3")
	requireFile(t, BusyboxPath, "busybox-static")
	runtimeFiles, err := PythonRuntime()
	if err != nil {
		t.Fatal(err)
	}
	img, err := Busybox("localhost/kfp-e2e/python:test")
	if err != nil {
		t.Fatal(err)
	}
	img.Files = append(img.Files, runtimeFiles...)
	img.FastCompression = true
	built, err := Build(img)
	if err != nil {
		t.Fatal(err)
	}
	files := imageFiles(t, built)

	var size int64
	for _, f := range runtimeFiles {
		size += int64(len(files[strings.TrimPrefix(f.Path, "/")].data))
	}
	t.Logf("python runtime: %d files, %.1f MiB uncompressed", len(runtimeFiles), float64(size)/(1<<20))
	// A third of the host's tree is tests, build kit and bytecode: a size
	// far above the lean set means an exclusion stopped working.
	if size > 48<<20 {
		t.Errorf("python runtime is %d bytes uncompressed, want under 48 MiB", size)
	}

	real, err := filepath.EvalSymlinks(PythonLink)
	if err != nil {
		t.Fatal(err)
	}
	bin := "usr/bin/" + filepath.Base(real)
	for _, link := range []string{"usr/bin/python3", "usr/local/bin/python3"} {
		if got := resolveLink(t, files, link); got != bin {
			t.Errorf("/%s resolves to /%s, want /%s", link, got, bin)
		}
	}
	if f := files[bin]; f.hdr == nil || f.hdr.Typeflag != tar.TypeReg || f.hdr.Mode != 0o755 {
		t.Fatalf("/%s is not an executable file", bin)
	}
	if !onPath(files, img.Env, "python3") {
		t.Error("python3 is not on the image's PATH")
	}

	interp := elfFile(t, bin, files[bin].data).interp
	if interp == "" {
		t.Fatalf("/%s has no program interpreter", bin)
	}
	if got := resolveLink(t, files, strings.TrimPrefix(interp, "/")); files[got].hdr == nil || files[got].hdr.Typeflag != tar.TypeReg {
		t.Errorf("program interpreter %s resolves to /%s, not a file", interp, got)
	}
	dirs := libDirs(t)
	if findLib(t, files, dirs, "libc.so.6") == "" {
		t.Error("libc.so.6 is not in the image")
	}

	stdlib := "usr/lib/" + filepath.Base(real) + "/"
	for _, want := range []string{"json/__init__.py", "typing.py", "os.py", "encodings/__init__.py"} {
		if f := files[stdlib+want]; f.hdr == nil || f.hdr.Typeflag != tar.TypeReg {
			t.Errorf("/%s%s is missing", stdlib, want)
		}
	}
	dynload := 0
	for n, f := range files {
		switch {
		case strings.Contains("/"+n, "/__pycache__/"):
			t.Errorf("/%s: bytecode caches are left out", n)
		case strings.HasPrefix(n, stdlib+"test/"), strings.HasPrefix(n, stdlib+"ensurepip/"),
			strings.HasPrefix(n, stdlib+"lib2to3/"), strings.HasPrefix(n, stdlib+"distutils/"),
			strings.HasPrefix(n, stdlib+"config-"), strings.HasPrefix(n, stdlib+"pydoc_data/"):
			t.Errorf("/%s is in a part of the standard library left out", n)
		}
		if strings.HasPrefix(n, stdlib+"lib-dynload/") && strings.HasSuffix(n, ".so") {
			dynload++
		}
		if f.hdr.Typeflag != tar.TypeReg || !bytes.HasPrefix(f.data, []byte(elf.ELFMAG)) {
			continue
		}
		e := elfFile(t, n, f.data)
		for _, so := range e.needed {
			if findLib(t, files, dirs, so) == "" {
				t.Errorf("/%s needs %s, which is not in %v", n, so, dirs)
			}
		}
		if e.interp != "" {
			if _, ok := files[resolveLink(t, files, strings.TrimPrefix(e.interp, "/"))]; !ok {
				t.Errorf("/%s: program interpreter %s is missing", n, e.interp)
			}
		}
	}
	if dynload == 0 {
		t.Errorf("no extension module in /%slib-dynload", stdlib)
	}
}

// TestPythonRuntimeMissing: without python3 the error names the packages.
func TestPythonRuntimeMissing(t *testing.T) {
	_, err := pythonRuntime(filepath.Join(t.TempDir(), "python3"))
	if err == nil || !strings.Contains(err.Error(), "install python3 (Debian package python3-minimal") {
		t.Fatalf("error %v, want the install hint", err)
	}
}

// TestFastCompression: the layer holds the same tar either way; the default
// gzips it at BestCompression (the bytes `make image` has always made),
// FastCompression at BestSpeed.
func TestFastCompression(t *testing.T) {
	img := Image{Name: "localhost/kfp-e2e/gzip:test", Files: []File{
		{Path: "/data", Data: bytes.Repeat([]byte("kfp driver plugin "), 4096)},
	}}
	fast := img
	fast.FastCompression = true
	for _, tc := range []struct {
		img   Image
		level int
	}{{img, gzip.BestCompression}, {fast, gzip.BestSpeed}} {
		built, err := Build(tc.img)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := built.Layers()
		if err != nil {
			t.Fatal(err)
		}
		raw := readAll(t, layers[0].Uncompressed)
		var want bytes.Buffer
		zw, err := gzip.NewWriterLevel(&want, tc.level)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, layers[0].Compressed); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("FastCompression=%v: layer is not the tar gzipped at level %d", tc.img.FastCompression, tc.level)
		}
	}
}

func readAll(t *testing.T, open func() (io.ReadCloser, error)) []byte {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type elfInfo struct {
	needed []string
	interp string
}

func elfFile(t *testing.T, name string, data []byte) elfInfo {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("/%s: %v", name, err)
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("/%s: %v", name, err)
	}
	info := elfInfo{needed: needed}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				t.Fatalf("/%s: %v", name, err)
			}
			info.interp = strings.TrimRight(string(b), "\x00")
		}
	}
	return info
}

// libDirs are the directories the loader searches without ld.so.cache.
func libDirs(t *testing.T) []string {
	t.Helper()
	triplet, ok := multiarch[runtime.GOARCH]
	if !ok {
		t.Skipf("no multiarch triplet for %s", runtime.GOARCH)
	}
	return []string{"lib/" + triplet, "usr/lib/" + triplet}
}

// findLib returns where a library resolves in the image, "" if nowhere.
func findLib(t *testing.T, files map[string]tarEntry, dirs []string, so string) string {
	t.Helper()
	for _, d := range dirs {
		p := path.Join(d, so)
		if _, ok := files[p]; !ok {
			continue
		}
		if got := resolveLink(t, files, p); files[got].hdr != nil && files[got].hdr.Typeflag == tar.TypeReg {
			return got
		}
	}
	return ""
}
