package driver

import (
	"strings"
	"testing"
)

// TestEndpointsValidate: addresses that could never be dialled stop the
// sidecar at start-up (issue 12, defect 7: bad addresses are permanent).
func TestEndpointsValidate(t *testing.T) {
	if err := DefaultEndpoints().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, tc := range map[string]struct {
		mutate func(*Endpoints)
		want   string
	}{
		"empty host":     {func(e *Endpoints) { e.MLMDHost = "" }, "metadata (MLMD) address is empty"},
		"port in host":   {func(e *Endpoints) { e.MLPipelineHost = "ml-pipeline:8887" }, `ml-pipeline address "ml-pipeline:8887"`},
		"port not a num": {func(e *Endpoints) { e.MLMDPort = "http" }, `metadata (MLMD) port "http"`},
		"port too large": {func(e *Endpoints) { e.MLPipelinePort = "70000" }, `ml-pipeline port "70000"`},
	} {
		e := DefaultEndpoints()
		tc.mutate(&e)
		if err := e.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, tc.want)
		}
	}
}
