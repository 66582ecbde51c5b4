package flow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

// TestTLSAgainstPlainTextIsPermanent (issue 12, defect 7): TLS to a
// plain-text MLMD or ml-pipeline server is a configuration error no retry
// fixes: the call fails at once (not transient) and says why.
func TestTLSAgainstPlainTextIsPermanent(t *testing.T) {
	env := drivertest.NewEnv(t)
	p := load(t, "parameter_cache.yaml") // its tasks look the cache up
	for name, mutate := range map[string]func(*driver.Endpoints){
		"metadata":                   func(e *driver.Endpoints) { e.MetadataTLS = true },
		"ml-pipeline (cache lookup)": func(e *driver.Endpoints) { e.MLPipelineTLS = true },
	} {
		ep := env.Endpoints
		mutate(&ep)
		w := env.Walker(p, "tls-"+name)
		w.Produce = drivertest.Produce
		w.Driver = flow.New(flow.Deps{MLMD: mlmd.NewPool(mlmd.Config{}), Tasks: &mlpipeline.Pool{}, Endpoints: ep})
		_, err := w.Run(context.Background(), p)
		if err == nil || driver.IsTransient(err) || !strings.Contains(err.Error(), "handshake") {
			t.Errorf("%s TLS against plain text: got %v (transient %v), want a permanent handshake error", name, err, driver.IsTransient(err))
		}
	}
}
