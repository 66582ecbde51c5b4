package e2e

import (
	"testing"
	"time"
)

func TestLabelReadsTheNamedLabelOnly(t *testing.T) {
	labels := `code="201",component="apiserver",group="argoproj.io",resource="workflowtasksets",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"`
	for name, want := range map[string]string{"resource": "workflowtasksets", "subresource": "status", "verb": "PATCH", "dry_run": ""} {
		if got := label(labels, name); got != want {
			t.Errorf("label %s = %q, want %q", name, got, want)
		}
	}
}

func TestCostSinceCountsWritesByResource(t *testing.T) {
	before := Cost{ControllerCPU: time.Second, Requests: map[string]float64{"PUT workflows": 3, "GET pods": 10}}
	after := Cost{ControllerCPU: 3 * time.Second, Requests: map[string]float64{"PUT workflows": 7, "GET pods": 30,
		"POST pods": 2, "PATCH workflowtasksets": 1}}
	d := after.Since(before)
	if d.ControllerCPU != 2*time.Second {
		t.Errorf("controller CPU %s, want 2s", d.ControllerCPU)
	}
	if got := d.Writes("workflows"); got != 4 {
		t.Errorf("workflow writes %v, want 4", got)
	}
	if got := d.Writes(""); got != 7 { // 4 PUT workflows, 2 POST pods, 1 PATCH
		t.Errorf("all writes %v, want 7", got)
	}
}
