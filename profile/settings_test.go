package profile

import (
	"strings"
	"testing"
)

func baseEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/bin", "HOME=/", "MINIO_ACCESS_KEY=minio", "MINIO_SECRET_KEY=minio123"}, extra...)
}

// seaweedEnv is what KFP's profile controller Deployment sets for sync.py
// on SeaweedFS.
func seaweedEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/bin", "AWS_ENDPOINT_URL=http://seaweedfs.kubeflow:8111", "S3_ENDPOINT_URL=http://seaweedfs.kubeflow:8333",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=admin", "AWS_SECRET_ACCESS_KEY=admin-secret"}, extra...)
}

func TestSettingsPerNamespaceCredentials(t *testing.T) {
	s, err := LoadSettings(seaweedEnv("ARTIFACT_RETENTION_DAYS=30"))
	if err != nil {
		t.Fatal(err)
	}
	api := s.ObjectStoreAPI
	if s.Credentials != CredentialsPerNamespace || api.IAMEndpoint != "http://seaweedfs.kubeflow:8111" ||
		api.S3Endpoint != "http://seaweedfs.kubeflow:8333" || api.Admin.AccessKey != "admin" || api.Admin.SecretKey != "admin-secret" ||
		api.Bucket != "mlpipeline" || api.RetentionDays != 30 || api.Region != "us-east-1" {
		t.Fatalf("%+v", s)
	}
	if _, err := s.Issuer(); err != nil {
		t.Fatal(err)
	}
	// Defaults: sync.py's S3 endpoint and region; retention off.
	s, err = LoadSettings([]string{"AWS_ENDPOINT_URL=http://iam:8111", "AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ObjectStoreAPI.S3Endpoint != DefaultS3Endpoint || s.ObjectStoreAPI.Region != DefaultRegion || s.ObjectStoreAPI.RetentionDays > 0 {
		t.Fatalf("%+v", s.ObjectStoreAPI)
	}
}

func TestSettingsDefaults(t *testing.T) {
	s, err := LoadSettings(baseEnv("KFP_VERSION=2.15.0"))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		ClusterDomain: DefaultClusterDomain, ObjectStoreHost: DefaultObjectStoreHost,
		FrontendImage: DefaultFrontendImage, FrontendTag: "2.15.0",
		MinioAccessKey: "minio", MinioSecretKey: "minio123", Credentials: CredentialsShared, ControllerPort: 8080,
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
		"credentials required":    {[]string{"PATH=/bin"}, []string{"MINIO_ACCESS_KEY: required", "MINIO_SECRET_KEY: required"}},
		"typo":                    {baseEnv("ARTIFACT_PROXY_ENABLED=true"), []string{"ARTIFACT_PROXY_ENABLED: unknown setting: did you mean ARTIFACTS_PROXY_ENABLED?"}},
		"unknown":                 {baseEnv("KFP_DEFAULT_ROOT=x"), []string{"KFP_DEFAULT_ROOT: unknown setting (known: "}},
		"plugin env here":         {baseEnv("DRIVER_POD_LABELS={}"), []string{"DRIVER_POD_LABELS: unknown setting: the hook reads the driver pod labels from the plugin ConfigMap"}},
		"dropped upstream":        {baseEnv("VISUALIZATION_SERVER_IMAGE=x"), []string{"no longer provisioned"}},
		"bad bool":                {baseEnv("ARTIFACTS_PROXY_ENABLED=yes", "FRONTEND_TAG=x"), []string{`ARTIFACTS_PROXY_ENABLED: "yes" is not a boolean`}},
		"bad port":                {baseEnv("CONTROLLER_PORT=http"), []string{`CONTROLLER_PORT: "http" is not a TCP port`}},
		"proxy needs a tag":       {baseEnv("ARTIFACTS_PROXY_ENABLED=true"), []string{"set FRONTEND_TAG or KFP_VERSION"}},
		"image with tag":          {baseEnv("ARTIFACTS_PROXY_ENABLED=true", "KFP_VERSION=1", "FRONTEND_IMAGE=x/y:1"), []string{"without tag or digest"}},
		"retention":               {baseEnv("ARTIFACT_RETENTION_DAYS=30"), []string{"ARTIFACT_RETENTION_DAYS: 30: a retention period needs OBJECT_STORE_CREDENTIALS=per-namespace"}},
		"retention not a number":  {seaweedEnv("ARTIFACT_RETENTION_DAYS=a week"), []string{`ARTIFACT_RETENTION_DAYS: "a week" is not a whole number of days`}},
		"admin identity required": {[]string{"AWS_ENDPOINT_URL=http://seaweedfs.kubeflow:8111"}, []string{"AWS_ACCESS_KEY_ID: required (the SeaweedFS admin identity", "AWS_SECRET_ACCESS_KEY: required"}},
		"IAM endpoint required":   {[]string{"OBJECT_STORE_CREDENTIALS=per-namespace", "AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"}, []string{"AWS_ENDPOINT_URL: required (SeaweedFS's IAM API"}},
		"MinIO keys with IAM":     {seaweedEnv("MINIO_ACCESS_KEY=x"), []string{"MINIO_ACCESS_KEY: not used with OBJECT_STORE_CREDENTIALS=per-namespace"}},
		"IAM with shared keys":    {baseEnv("OBJECT_STORE_CREDENTIALS=shared", "AWS_ENDPOINT_URL=http://x:1"), []string{"AWS_ENDPOINT_URL: not used with OBJECT_STORE_CREDENTIALS=shared"}},
		"unknown mode":            {baseEnv("OBJECT_STORE_CREDENTIALS=per-user"), []string{`OBJECT_STORE_CREDENTIALS: "per-user": want per-namespace or shared`}},
		"bad S3 endpoint":         {seaweedEnv("S3_ENDPOINT_URL=seaweedfs:8333"), []string{`S3 endpoint: "seaweedfs:8333" is not http(s)://host[:port]`}},
		"bad host":                {baseEnv("OBJECT_STORE_HOST=Not_A_Host"), []string{"OBJECT_STORE_HOST: "}},
		"bad domain":              {baseEnv("CLUSTER_DOMAIN=.bad domain"), []string{"CLUSTER_DOMAIN: "}},
		"all reported":            {[]string{"CONTROLLER_PORT=0", "DISABLE_ISTIO_SIDECAR=1"}, []string{"CONTROLLER_PORT", "DISABLE_ISTIO_SIDECAR", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"}},
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
