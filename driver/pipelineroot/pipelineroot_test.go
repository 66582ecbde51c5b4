package pipelineroot

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube/kubetest"
)

func TestForRun(t *testing.T) {
	for in, want := range map[string]string{
		"minio://mlpipeline/v2/artifacts": "minio://mlpipeline/v2/artifacts/p/r1",
		"s3://b/x/?region=us":             "s3://b/x/p/r1?region=us",
		"gs://bucket/":                    "gs://bucket/p/r1",
	} {
		if got := ForRun(in, "p", "r1"); got != want {
			t.Errorf("ForRun(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	providers := `
s3:
  default:
    endpoint: s3.amazonaws.com
    region: us-east-1
    credentials:
      fromEnv: false
      secretRef: {secretName: s3-secret, accessKeyKey: ak, secretKeyKey: sk}
  Overrides:
  - bucketName: special
    keyPrefix: team-a
    endpoint: other:9000
    credentials: {fromEnv: true}
`
	k := kubetest.New(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: "ns"},
		Data:       map[string]string{"defaultPipelineRoot": "s3://bucket/root", "providers": providers},
	})
	cfg, err := Load(context.Background(), k, "ns")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		runRoot, root string
		params        map[string]string
	}{
		{"", "s3://bucket/root", map[string]string{"endpoint": "s3.amazonaws.com", "secretName": "s3-secret", "fromEnv": "false"}},
		{"s3://special/team-a/x", "s3://special/team-a/x", map[string]string{"endpoint": "other:9000", "fromEnv": "true", "region": "us-east-1"}},
		{"s3://bucket/x?region=eu", "s3://bucket/x?region=eu", map[string]string{"fromEnv": "true"}},
	}
	for _, c := range cases {
		root, session, err := Resolve(c.runRoot, cfg)
		if err != nil || root != c.root {
			t.Fatalf("Resolve(%q) = %q, %v", c.runRoot, root, err)
		}
		var s Session
		if err := json.Unmarshal([]byte(session), &s); err != nil {
			t.Fatal(err)
		}
		for k, v := range c.params {
			if s.Params[k] != v {
				t.Errorf("Resolve(%q): param %s = %q, want %q (all %v)", c.runRoot, k, s.Params[k], v, s.Params)
			}
		}
		if c.params["fromEnv"] == "true" && s.Params["secretName"] != "" {
			t.Errorf("Resolve(%q): fromEnv session keeps secretName", c.runRoot)
		}
	}
	empty, _ := Load(context.Background(), kubetest.New(), "ns")
	root, session, err := Resolve("", empty)
	if err != nil || root != DefaultRoot || !json.Valid([]byte(session)) {
		t.Fatalf("default: %q %q %v", root, session, err)
	}
	var s Session
	_ = json.Unmarshal([]byte(session), &s)
	if s.Provider != "minio" || s.Params["secretName"] != "mlpipeline-minio-artifact" {
		t.Errorf("default minio session = %+v", s)
	}
	if _, _, err := Resolve("ftp://x/y", empty); err == nil {
		t.Error("unsupported scheme: want error")
	}
}

// Only a missing ConfigMap is "no config"; any other failure is reported,
// with the API error kept for the caller's transient classification.
func TestLoadErrors(t *testing.T) {
	k := kubetest.New()
	k.Err = func(verb, resource, namespace, name string) error {
		return apierrors.NewForbidden(corev1.Resource(resource), name, errors.New("no RBAC"))
	}
	_, err := Load(context.Background(), k, "ns")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "ConfigMap ns/kfp-launcher") {
		t.Fatalf("Load with a forbidden read: %v", err)
	}
	if cfg, err := Load(context.Background(), nil, "ns"); err != nil || cfg != (Config{}) {
		t.Fatalf("Load without a client: %+v, %v", cfg, err)
	}
}
