package ociimage

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// requireFile skips when a host file the test needs is absent, except where
// CI or `make unit` demands the full set.
func requireFile(t *testing.T, p, pkg string) {
	t.Helper()
	_, err := os.Stat(p)
	if err == nil {
		return
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if os.Getenv("KFP_PLUGIN_REQUIRE_TOOLS") == "1" || os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: apt-get install %s", p, pkg)
	}
	t.Skipf("%s is missing (apt-get install %s)", p, pkg)
}

// tarEntry is one member of a tar with its content.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// readTar returns the members of a tar stream by name, failing on duplicates.
func readTar(t *testing.T, r io.Reader) (map[string]tarEntry, []string) {
	t.Helper()
	tr := tar.NewReader(r)
	out := map[string]tarEntry{}
	var order []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, order
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[hdr.Name]; dup {
			t.Fatalf("tar member %s twice", hdr.Name)
		}
		out[hdr.Name] = tarEntry{hdr, data}
		order = append(order, hdr.Name)
	}
}

func readTarFile(t *testing.T, p string) (map[string]tarEntry, []string) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readTar(t, f)
}

// imageFiles unpacks an image's single layer.
func imageFiles(t *testing.T, img v1.Image) map[string]tarEntry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files, _ := readTar(t, rc)
	return files
}

// extract writes the archive's members to a directory so that the layout
// reader can open it.
func extract(t *testing.T, members map[string]tarEntry) string {
	t.Helper()
	dir := t.TempDir()
	for n, m := range members {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if m.hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, m.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustConfig(t *testing.T, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
