package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeMetadata(t *testing.T, labels, annotations string) string {
	t.Helper()
	dir := t.TempDir()
	for file, content := range map[string]string{LabelsFile: labels, AnnotationsFile: annotations} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPodMetadataFileNames(t *testing.T) {
	if LabelsFile != "driver-pod-labels" || AnnotationsFile != "driver-pod-annotations" {
		t.Fatalf("files %q %q: the manifests' ConfigMap keys use these names", LabelsFile, AnnotationsFile)
	}
}

func TestPodMetadataReloadsOnChange(t *testing.T) {
	dir := writeMetadata(t, `{"a":"1"}`, `{}`)
	src := NewPodMetadataSource(dir)
	md, err := src.Load()
	if err != nil || md.Labels["a"] != "1" {
		t.Fatalf("first load: %v %v", md, err)
	}
	// Kubelet swaps the ConfigMap volume's ..data symlink; for the reader
	// that is just new bytes at the same path.
	if err := os.WriteFile(filepath.Join(dir, LabelsFile), []byte(`{"a":"2","b":"3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	md, err = src.Load()
	if err != nil || md.Labels["a"] != "2" || md.Labels["b"] != "3" {
		t.Fatalf("after change: %v %v", md, err)
	}
}

func TestPodMetadataErrors(t *testing.T) {
	md, err := NewPodMetadataSource("").Load()
	if err != nil || len(md.Labels)+len(md.Annotations) != 0 {
		t.Fatalf("no directory configured: %v %v", md, err)
	}
	for name, c := range map[string]struct{ labels, annotations, want string }{
		"invalid JSON":     {`{"a":`, `{}`, "driver-pod-labels"},
		"not string":       {`{}`, `{"a": 1}`, `value must be a string`},
		"not an object":    {`[]`, `{}`, "must be a JSON object"},
		"empty is allowed": {``, ``, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewPodMetadataSource(writeMetadata(t, c.labels, c.annotations)).Load()
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	missing := t.TempDir()
	if _, err := NewPodMetadataSource(missing).Load(); err == nil || !strings.Contains(err.Error(), LabelsFile) {
		t.Fatalf("missing file: %v", err)
	}
}

func writeFile(t *testing.T, dir, file, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
