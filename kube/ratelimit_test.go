package kube

import (
	"testing"

	"k8s.io/client-go/rest"
)

// TestClientSideLimit: a config without a limit gets ours, an admin's
// explicit QPS is kept.
func TestClientSideLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		qps  float32
		want float32
	}{
		{"unset gets ours", 0, QPS},
		{"explicit is kept", 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &rest.Config{Host: "https://127.0.0.1:1", QPS: tc.qps}
			c, err := NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := c.rest.(*rest.RESTClient).GetRateLimiter().QPS()
			if got != tc.want {
				t.Errorf("client-side QPS %v, want %v", got, tc.want)
			}
			if cfg.QPS != tc.qps {
				t.Errorf("the caller's config was changed: QPS %v", cfg.QPS)
			}
		})
	}
}
