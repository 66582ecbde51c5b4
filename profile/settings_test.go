package profile

import (
	"strings"
	"testing"
)

func baseEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/bin", "HOME=/", "MINIO_ACCESS_KEY=minio", "MINIO_SECRET_KEY=minio123"}, extra...)
}

func TestSettingsDefaults(t *testing.T) {
	s, err := LoadSettings(baseEnv("KFP_VERSION=2.15.0"))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		ClusterDomain: DefaultClusterDomain, ObjectStoreHost: DefaultObjectStoreHost,
		FrontendImage: DefaultFrontendImage, FrontendTag: "2.15.0",
		MinioAccessKey: "minio", MinioSecretKey: "minio123", ControllerPort: 8080,
		ClusterRole: "ml-pipeline-driver-agent-executor-plugin", WorkflowSA: "default-editor",
	}
	if s != want {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
}

func TestSettingsFromEnv(t *testing.T) {
	s, err := LoadSettings(baseEnv(
		"KFP_VERSION=2.14.0", "FRONTEND_TAG=abc", "FRONTEND_IMAGE=registry.local:5000/kfp/frontend",
		"ARTIFACTS_PROXY_ENABLED=True", "DISABLE_ISTIO_SIDECAR=true", "CLUSTER_DOMAIN=cluster.example",
		"OBJECT_STORE_HOST=minio-service", "KFP_DEFAULT_PIPELINE_ROOT=s3://b/p", "CONTROLLER_PORT=9000",
		"DRIVER_PLUGIN_API_TOKEN=true", "DRIVER_PLUGIN_POD_METADATA_DIR=/etc/pm", "DRIVER_PLUGIN_CLUSTER_ROLE=custom",
		"WORKFLOW_SERVICE_ACCOUNT=runner", "ARTIFACT_RETENTION_DAYS=-1", "KFP_DEFAULT_PIPELINE_ROOT_X=",
	))
	if err != nil {
		t.Fatal(err)
	}
	if s.FrontendTag != "abc" || !s.ArtifactsProxy || !s.DisableIstioSidecar || s.ClusterDomain != "cluster.example" ||
		s.ObjectStoreHost != "minio-service" || s.DefaultPipelineRoot != "s3://b/p" || s.ControllerPort != 9000 ||
		!s.APIToken || s.PodMetadataDir != "/etc/pm" || s.ClusterRole != "custom" || s.WorkflowSA != "runner" {
		t.Fatalf("%+v", s)
	}
}

func TestSettingsErrors(t *testing.T) {
	cases := map[string]struct {
		env  []string
		want []string
	}{
		"credentials required": {[]string{"PATH=/bin"}, []string{"MINIO_ACCESS_KEY: required", "MINIO_SECRET_KEY: required"}},
		"typo":                 {baseEnv("ARTIFACT_PROXY_ENABLED=true"), []string{"ARTIFACT_PROXY_ENABLED: unknown setting: did you mean ARTIFACTS_PROXY_ENABLED?"}},
		"unknown":              {baseEnv("KFP_DEFAULT_ROOT=x"), []string{"KFP_DEFAULT_ROOT: unknown setting (known: "}},
		"plugin env here":      {baseEnv("DRIVER_POD_LABELS={}"), []string{"DRIVER_POD_LABELS: unknown setting: the hook reads the driver pod labels from the plugin ConfigMap"}},
		"dropped upstream":     {baseEnv("VISUALIZATION_SERVER_IMAGE=x"), []string{"no longer provisioned"}},
		"bad bool":             {baseEnv("ARTIFACTS_PROXY_ENABLED=yes", "FRONTEND_TAG=x"), []string{`ARTIFACTS_PROXY_ENABLED: "yes" is not a boolean`}},
		"bad port":             {baseEnv("CONTROLLER_PORT=http"), []string{`CONTROLLER_PORT: "http" is not a TCP port`}},
		"proxy needs a tag":    {baseEnv("ARTIFACTS_PROXY_ENABLED=true"), []string{"set FRONTEND_TAG or KFP_VERSION"}},
		"image with tag":       {baseEnv("ARTIFACTS_PROXY_ENABLED=true", "KFP_VERSION=1", "FRONTEND_IMAGE=x/y:1"), []string{"without tag or digest"}},
		"retention":            {baseEnv("ARTIFACT_RETENTION_DAYS=30"), []string{"ARTIFACT_RETENTION_DAYS: \"30\": bucket lifecycle policies are not managed"}},
		"bad host":             {baseEnv("OBJECT_STORE_HOST=Not_A_Host"), []string{"OBJECT_STORE_HOST: "}},
		"bad domain":           {baseEnv("CLUSTER_DOMAIN=.bad domain"), []string{"CLUSTER_DOMAIN: "}},
		"all reported":         {[]string{"CONTROLLER_PORT=0", "DISABLE_ISTIO_SIDECAR=1"}, []string{"CONTROLLER_PORT", "DISABLE_ISTIO_SIDECAR", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadSettings(c.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// Kubernetes injects <SERVICE>_SERVICE_HOST and friends for every Service in
// the namespace; KFP's minio-service yields MINIO_SERVICE_* names.
func TestSettingsIgnoreServiceLinks(t *testing.T) {
	_, err := LoadSettings(baseEnv(
		"MINIO_SERVICE_SERVICE_HOST=10.0.0.1", "MINIO_SERVICE_SERVICE_PORT=9000", "MINIO_SERVICE_SERVICE_PORT_HTTP=9000",
		"MINIO_SERVICE_PORT=tcp://10.0.0.1:9000", "MINIO_SERVICE_PORT_9000_TCP=tcp://10.0.0.1:9000",
		"MINIO_SERVICE_PORT_9000_TCP_PROTO=tcp", "MINIO_SERVICE_PORT_9000_TCP_ADDR=10.0.0.1", "MINIO_SERVICE_PORT_9000_TCP_PORT=9000",
		"KFP_DRIVER_PLUGIN_PROFILE_CONTROLLER_SERVICE_HOST=10.0.0.2",
	))
	if err != nil {
		t.Fatal(err)
	}
}
