package pluginconfig

import (
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	s, warnings, err := Load(Sources{Lookup: env(nil)})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("defaults: %v %v", err, warnings)
	}
	if s.Requests != (Resources{"100m", "128Mi"}) || s.Limits != (Resources{"500m", "512Mi"}) {
		t.Fatalf("resource defaults: %+v %+v", s.Requests, s.Limits)
	}
	if s.Image != DefaultImage || len(s.Labels) != 0 || len(s.Annotations) != 0 {
		t.Fatalf("unexpected defaults %+v", s)
	}
}

// The examples of the driver pod configuration guide (seed 000).
func TestSeedExamples(t *testing.T) {
	tests := []struct {
		name            string
		vars            map[string]string
		file            string
		wantLabels      map[string]string
		wantAnnotations map[string]string
	}{
		{
			name: "environment variables",
			vars: map[string]string{
				EnvPodLabels:      `{"sidecar.istio.io/inject": "true", "app.kubernetes.io/component": "kfp-driver"}`,
				EnvPodAnnotations: `{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}`,
			},
			wantLabels:      map[string]string{"sidecar.istio.io/inject": "true", "app.kubernetes.io/component": "kfp-driver"},
			wantAnnotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
		},
		{
			name:            "kfp-driver-config ConfigMap file",
			file:            `{"labels": {"sidecar.istio.io/inject": "true"}, "annotations": {"proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}"}}`,
			wantLabels:      map[string]string{"sidecar.istio.io/inject": "true"},
			wantAnnotations: map[string]string{"proxy.istio.io/config": `{"holdApplicationUntilProxyStarts": true}`},
		},
		{
			name: "istio strict mTLS via V2_DRIVER_CONFIG",
			vars: map[string]string{EnvDriverConfig: `{
  "labels": {"sidecar.istio.io/inject": "true", "app.kubernetes.io/component": "kfp-driver"},
  "annotations": {
    "proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}",
    "traffic.sidecar.istio.io/includeInboundPorts": "*",
    "traffic.sidecar.istio.io/excludeOutboundPorts": "15090,15021"
  }}`},
			wantLabels: map[string]string{"sidecar.istio.io/inject": "true", "app.kubernetes.io/component": "kfp-driver"},
			wantAnnotations: map[string]string{
				"proxy.istio.io/config":                         `{"holdApplicationUntilProxyStarts": true}`,
				"traffic.sidecar.istio.io/includeInboundPorts":  "*",
				"traffic.sidecar.istio.io/excludeOutboundPorts": "15090,15021",
			},
		},
		{
			name:            "prometheus monitoring",
			vars:            map[string]string{EnvDriverConfig: `{"annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090", "prometheus.io/path": "/metrics"}}`},
			wantLabels:      map[string]string{},
			wantAnnotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090", "prometheus.io/path": "/metrics"},
		},
		{
			name:            "node selection labels",
			vars:            map[string]string{EnvDriverConfig: `{"labels": {"workload-type": "kfp-driver", "node-role": "pipeline-execution"}}`},
			wantLabels:      map[string]string{"workload-type": "kfp-driver", "node-role": "pipeline-execution"},
			wantAnnotations: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, warnings, err := Load(Sources{Lookup: env(tc.vars), ConfigFile: []byte(tc.file)})
			if err != nil || len(warnings) > 0 {
				t.Fatalf("err=%v warnings=%v", err, warnings)
			}
			assertMap(t, "labels", s.Labels, tc.wantLabels)
			assertMap(t, "annotations", s.Annotations, tc.wantAnnotations)
		})
	}
}

func TestPrecedence(t *testing.T) {
	s, _, err := Load(Sources{
		ConfigFile: []byte(`{"labels":{"a":"file","b":"file","c":"file"},"resources":{"requests":{"cpu":"50m"},"limits":{"memory":"1Gi"}}}`),
		Lookup: env(map[string]string{
			EnvDriverConfig:   `{"labels":{"b":"v2","c":"v2"}}`,
			EnvPodLabels:      `{"c":"single"}`,
			EnvRequestsCPU:    "200m",
			EnvImage:          "registry.local/plugin:env",
			EnvPodAnnotations: "", // empty means unset
		}),
		Image: "registry.local/plugin:flag",
	})
	if err != nil {
		t.Fatal(err)
	}
	assertMap(t, "labels", s.Labels, map[string]string{"a": "file", "b": "v2", "c": "single"})
	if s.Requests.CPU != "200m" || s.Limits.Memory != "1Gi" || s.Requests.Memory != "128Mi" {
		t.Fatalf("resources: %+v %+v", s.Requests, s.Limits)
	}
	if s.Image != "registry.local/plugin:flag" {
		t.Fatalf("flag must win for the image: %s", s.Image)
	}
}

func TestValidationErrorsReportedTogether(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		file string
		want []string
	}{
		{"number value", map[string]string{EnvPodLabels: `{"team": 7}`}, "", []string{`DRIVER_POD_LABELS: key "team": value must be a string, got a number`}},
		{"boolean value", map[string]string{EnvPodAnnotations: `{"sidecar.istio.io/inject": true}`}, "", []string{`DRIVER_POD_ANNOTATIONS: key "sidecar.istio.io/inject": value must be a string, got a boolean`}},
		{"null value", map[string]string{EnvPodLabels: `{"a": null}`}, "", []string{`key "a": value must be a string, got null`}},
		{"not an object", map[string]string{EnvPodLabels: `["a"]`}, "", []string{"DRIVER_POD_LABELS: must be a JSON object, got an array"}},
		{"invalid JSON", map[string]string{EnvDriverConfig: `{"labels":`}, "", []string{"V2_DRIVER_CONFIG: invalid JSON"}},
		{"unknown V2 key", map[string]string{EnvDriverConfig: `{"label":{}}`}, "", []string{`V2_DRIVER_CONFIG: unknown key "label"`}},
		{"labels not an object", map[string]string{EnvDriverConfig: `{"labels":"x"}`}, "", []string{"V2_DRIVER_CONFIG: labels: must be a JSON object, got"}},
		{"bad label key", map[string]string{EnvPodLabels: `{"bad key!": "x"}`}, "", []string{`label key "bad key!"`}},
		{"bad label value", map[string]string{EnvPodLabels: `{"ok": "has space"}`}, "", []string{`label "ok" value "has space"`}},
		{"bad annotation key", map[string]string{EnvPodAnnotations: `{"-x/y/z": "v"}`}, "", []string{`annotation key "-x/y/z"`}},
		{"bad quantity", map[string]string{EnvLimitsCPU: "lots"}, "", []string{`DRIVER_RESOURCE_LIMITS_CPU "lots": not a Kubernetes quantity`}},
		{"request above limit", map[string]string{EnvRequestsMemory: "1Gi", EnvLimitsMemory: "512Mi"}, "", []string{"DRIVER_RESOURCE_REQUESTS_MEMORY 1Gi is more than DRIVER_RESOURCE_LIMITS_MEMORY 512Mi"}},
		{"bad file resource", nil, `{"resources":{"requests":{"gpu":"1"}}}`, []string{`config file: resources: requests: unknown resource "gpu"`}},
		{"several at once", map[string]string{EnvPodLabels: `{"a": 1}`, EnvLimitsCPU: "x"}, "", []string{`key "a"`, "DRIVER_RESOURCE_LIMITS_CPU"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(Sources{Lookup: env(tc.vars), ConfigFile: []byte(tc.file)})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReservedKeysDropped(t *testing.T) {
	s, warnings, err := Load(Sources{Lookup: env(map[string]string{
		EnvPodLabels:      `{"pipelines.kubeflow.org/v2_component": "true", "team": "a"}`,
		EnvPodAnnotations: `{"workflows.argoproj.io/node-id": "x", "note": "y"}`,
	})})
	if err != nil {
		t.Fatal(err)
	}
	assertMap(t, "labels", s.Labels, map[string]string{"team": "a"})
	assertMap(t, "annotations", s.Annotations, map[string]string{"note": "y"})
	if len(warnings) != 2 || !strings.Contains(strings.Join(warnings, "\n"), `"pipelines.kubeflow.org/v2_component"`) {
		t.Fatalf("want one warning per dropped key, got %v", warnings)
	}
}

func assertMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s[%q] = %q, want %q", what, k, got[k], v)
		}
	}
}

// Driver logs are on by default against KFP's object store Service, with
// the namespace's artifact key; "off" keeps them on stderr only.
func TestDriverLogsEndpoint(t *testing.T) {
	args := func(vars map[string]string) string {
		s, _, err := Load(Sources{Lookup: env(vars)})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(s.Container().Args, " ")
	}
	if a := args(nil); !strings.Contains(a, "--driver-logs-endpoint="+DefaultDriverLogsEndpoint) {
		t.Errorf("default args %q", a)
	}
	if a := args(map[string]string{EnvDriverLogs: "https://s3.example:443"}); !strings.Contains(a, "--driver-logs-endpoint=https://s3.example:443") {
		t.Errorf("args %q", a)
	}
	if a := args(map[string]string{EnvDriverLogs: DriverLogsOff}); strings.Contains(a, "driver-logs") {
		t.Errorf("off: args %q", a)
	}
	c := Defaults().Container()
	keys := 0
	for _, e := range c.Env {
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
			if ref.SecretKeyRef.Name != ArtifactSecret || ref.SecretKeyRef.Optional == nil || !*ref.SecretKeyRef.Optional {
				t.Errorf("%s: %+v, want the optional artifact Secret", e.Name, ref.SecretKeyRef)
			}
			keys++
		}
	}
	if keys != 2 {
		t.Errorf("%d secret env vars, want the access and secret key", keys)
	}
	for _, bad := range []string{"minio-service:9000", "http://h:1/path", "ftp://h"} {
		if _, _, err := Load(Sources{Lookup: env(map[string]string{EnvDriverLogs: bad})}); err == nil || !strings.Contains(err.Error(), EnvDriverLogs) {
			t.Errorf("%q: %v, want an error naming %s", bad, err, EnvDriverLogs)
		}
	}
}

// The native line's token: minted by default for the pod's account (from
// the downward API); "none" turns it off; anything else is refused.
func TestAPIToken(t *testing.T) {
	args := func(vars map[string]string) string {
		s, _, err := Load(Sources{Lookup: env(vars)})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(s.Container().Args, " ")
	}
	if a := args(nil); !strings.Contains(a, "--api-token="+APITokenRequest) {
		t.Errorf("default args %q", a)
	}
	if a := args(map[string]string{EnvAPIToken: " none "}); !strings.Contains(a, "--api-token=none") {
		t.Errorf("none: args %q", a)
	}
	found := false
	for _, e := range Defaults().Container().Env {
		if e.Name == EnvServiceAccount {
			found = e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.serviceAccountName"
		}
	}
	if !found {
		t.Errorf("no %s from spec.serviceAccountName in the sidecar's env", EnvServiceAccount)
	}
	for _, bad := range []string{"token", "TokenRequest", "file"} {
		if _, _, err := Load(Sources{Lookup: env(map[string]string{EnvAPIToken: bad})}); err == nil || !strings.Contains(err.Error(), EnvAPIToken) {
			t.Errorf("%q: %v, want an error naming %s", bad, err, EnvAPIToken)
		}
	}
}
