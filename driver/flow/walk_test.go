package flow_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

func load(t *testing.T, name string) *drivertest.Pipeline {
	t.Helper()
	p, err := drivertest.Load(filepath.Join("..", "testdata", "pipelines", name))
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	return p
}

// specFiles are the copied real pipeline specs every full walk covers.
func specFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "pipelines", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pipeline specs in testdata: %v", err)
	}
	return files
}

// TestWalkAllSpecs walks every copied real pipeline spec end to end, each
// driver call made twice (an Argo retry), and expects no error.
func TestWalkAllSpecs(t *testing.T) {
	env := drivertest.NewEnv(t)
	for _, f := range specFiles(t) {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			p := load(t, name)
			w := env.Walker(p, "run-"+strings.TrimSuffix(name, ".yaml"))
			w.Repeat = true
			w.Produce = drivertest.Produce
			trace, err := w.Run(context.Background(), p)
			for _, s := range trace.Steps {
				t.Logf("%-9s %-50s %s", s.Type, s.Path, s.Result.Message)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
