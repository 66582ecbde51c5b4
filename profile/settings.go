package profile

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Environment variables read at start-up. The first group has sync.py's
// names and meanings, so the Deployment's env can be reused unchanged.
const (
	EnvKFPVersion          = "KFP_VERSION"
	EnvDefaultPipelineRoot = "KFP_DEFAULT_PIPELINE_ROOT"
	EnvClusterDomain       = "CLUSTER_DOMAIN"
	EnvObjectStoreHost     = "OBJECT_STORE_HOST"
	EnvArtifactsProxy      = "ARTIFACTS_PROXY_ENABLED"
	EnvFrontendImage       = "FRONTEND_IMAGE"
	EnvFrontendTag         = "FRONTEND_TAG"
	EnvDisableIstioSidecar = "DISABLE_ISTIO_SIDECAR"
	EnvMinioAccessKey      = "MINIO_ACCESS_KEY"
	EnvMinioSecretKey      = "MINIO_SECRET_KEY"
	EnvControllerPort      = "CONTROLLER_PORT"
	EnvRetentionDays       = "ARTIFACT_RETENTION_DAYS"
	// SeaweedFS's IAM and S3 APIs and the admin identity, as KFP's
	// profile controller Deployment sets them for sync.py.
	EnvIAMEndpoint    = "AWS_ENDPOINT_URL"
	EnvS3Endpoint     = "S3_ENDPOINT_URL"
	EnvRegion         = "AWS_REGION"
	EnvAdminAccessKey = "AWS_ACCESS_KEY_ID"
	EnvAdminSecretKey = "AWS_SECRET_ACCESS_KEY"

	// Ours: where the plugin's pod metadata is mounted, which ClusterRole the
	// plugin account is bound to, whether agent pods get a KFP API token,
	// and which account workflows run as.
	EnvPodMetadataDir = "DRIVER_PLUGIN_POD_METADATA_DIR"
	EnvClusterRole    = "DRIVER_PLUGIN_CLUSTER_ROLE"
	EnvAPIToken       = "DRIVER_PLUGIN_API_TOKEN"
	EnvWorkflowSA     = "WORKFLOW_SERVICE_ACCOUNT"
	// EnvCredentials picks how a namespace's artifact Secret gets its key:
	// CredentialsPerNamespace or CredentialsShared.
	EnvCredentials = "OBJECT_STORE_CREDENTIALS"
)

// Values of EnvCredentials.
const (
	// CredentialsPerNamespace: an IAM user and key per namespace confined
	// to its prefixes (sync.py with SeaweedFS). The default when
	// AWS_ENDPOINT_URL is set.
	CredentialsPerNamespace = "per-namespace"
	// CredentialsShared: every namespace gets MINIO_ACCESS_KEY and
	// MINIO_SECRET_KEY (sync.py with MinIO). The default otherwise.
	CredentialsShared = "shared"
)

// Defaults, as sync.py has them where it has them.
const (
	DefaultClusterDomain   = ".svc.cluster.local"
	DefaultObjectStoreHost = "seaweedfs"
	DefaultFrontendImage   = "ghcr.io/kubeflow/kfp-frontend"
	DefaultControllerPort  = 8080
	DefaultClusterRole     = pluginconfig.ServiceAccountName
	DefaultWorkflowSA      = "default-editor"
	DefaultS3Endpoint      = "http://seaweedfs.kubeflow:8333"
	DefaultRegion          = "us-east-1"
)

// Settings configure the hook. They are read once at start-up.
type Settings struct {
	// DefaultPipelineRoot is the kfp-launcher root; empty means the
	// namespace's private prefix in the shared bucket, as sync.py does.
	DefaultPipelineRoot string
	ClusterDomain       string
	ObjectStoreHost     string
	ArtifactsProxy      bool
	FrontendImage       string
	FrontendTag         string
	DisableIstioSidecar bool
	MinioAccessKey      string
	MinioSecretKey      string
	// Credentials is CredentialsPerNamespace or CredentialsShared; the
	// object-store fields below are used by the former only.
	Credentials    string
	ObjectStoreAPI objectstore.SeaweedFSConfig
	ControllerPort int
	PodMetadataDir string
	ClusterRole    string
	APIToken       bool
	WorkflowSA     string
}

// ownedPrefixes mark variables meant for this controller: one that starts
// like this but is not a known name is a typo or a setting that no longer
// exists, and start-up fails instead of ignoring it.
var ownedPrefixes = []string{
	"KFP_", "FRONTEND_", "MINIO_", "ARTIFACT", "OBJECT_STORE_", "CLUSTER_DOMAIN",
	"DISABLE_ISTIO", "CONTROLLER_", "DRIVER_", "WORKFLOW_SERVICE_ACCOUNT", "VISUALIZATION_SERVER_",
}

// hints explain names that someone may carry over from elsewhere.
var hints = map[string]string{
	"VISUALIZATION_SERVER_IMAGE":    "the visualization server is no longer provisioned (KFP dropped it)",
	"VISUALIZATION_SERVER_TAG":      "the visualization server is no longer provisioned (KFP dropped it)",
	pluginconfig.EnvPodLabels:       "the hook reads the driver pod labels from the plugin ConfigMap (" + EnvPodMetadataDir + ")",
	pluginconfig.EnvPodAnnotations:  "the hook reads the driver pod annotations from the plugin ConfigMap (" + EnvPodMetadataDir + ")",
	pluginconfig.EnvDriverConfig:    "the hook reads the driver pod metadata from the plugin ConfigMap (" + EnvPodMetadataDir + ")",
	pluginconfig.EnvImage:           "the plugin image is set in the plugin ConfigMap, not here",
	pluginconfig.EnvAPIToken:        "the native line's KFP API token is set in the plugin ConfigMap, not here (" + EnvAPIToken + " is the agent pods' SDK token)",
	pluginconfig.EnvRequestsCPU:     "driver resources are set in the plugin ConfigMap, not here",
	pluginconfig.EnvRequestsMemory:  "driver resources are set in the plugin ConfigMap, not here",
	pluginconfig.EnvLimitsCPU:       "driver resources are set in the plugin ConfigMap, not here",
	pluginconfig.EnvLimitsMemory:    "driver resources are set in the plugin ConfigMap, not here",
	"ARTIFACT_PROXY_ENABLED":        "did you mean " + EnvArtifactsProxy + "?",
	"ARTIFACTS_PROXY":               "did you mean " + EnvArtifactsProxy + "?",
	"KFP_DEFAULT_PIPELINE_ROOT_DIR": "did you mean " + EnvDefaultPipelineRoot + "?",
}

// serviceLink matches the variables Kubernetes injects for every Service in
// the namespace (e.g. MINIO_SERVICE_SERVICE_HOST); they are not settings.
var serviceLink = regexp.MustCompile(`_SERVICE_HOST$|_SERVICE_PORT(_[A-Z0-9_]+)?$|_PORT$|_PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?$`)

// LoadSettings reads the settings from environ ("NAME=value" entries, as
// os.Environ returns them). Every problem is reported, one per line, naming
// the variable. Blank values count as unset.
func LoadSettings(environ []string) (Settings, error) {
	env := envMap(environ)
	r := reader{env: env}
	s := Settings{
		DefaultPipelineRoot: r.str(EnvDefaultPipelineRoot, ""),
		ClusterDomain:       r.str(EnvClusterDomain, DefaultClusterDomain),
		ObjectStoreHost:     r.str(EnvObjectStoreHost, DefaultObjectStoreHost),
		ArtifactsProxy:      r.boolean(EnvArtifactsProxy),
		FrontendImage:       r.str(EnvFrontendImage, DefaultFrontendImage),
		FrontendTag:         r.str(EnvFrontendTag, r.str(EnvKFPVersion, "")),
		DisableIstioSidecar: r.boolean(EnvDisableIstioSidecar),
		ControllerPort:      r.port(EnvControllerPort, DefaultControllerPort),
		PodMetadataDir:      r.str(EnvPodMetadataDir, ""),
		ClusterRole:         r.str(EnvClusterRole, DefaultClusterRole),
		APIToken:            r.boolean(EnvAPIToken),
		WorkflowSA:          r.str(EnvWorkflowSA, DefaultWorkflowSA),
	}
	r.credentials(&s)
	r.unknown()
	r.errs = append(r.errs, s.validate()...)
	if len(r.errs) > 0 {
		sort.Strings(r.errs)
		return Settings{}, errors.New(strings.Join(r.errs, "\n"))
	}
	return s, nil
}

func envMap(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(v) != "" {
			env[k] = v
		}
	}
	return env
}

// known are the names LoadSettings reads.
var known = map[string]bool{
	EnvKFPVersion: true, EnvDefaultPipelineRoot: true, EnvClusterDomain: true, EnvObjectStoreHost: true,
	EnvArtifactsProxy: true, EnvFrontendImage: true, EnvFrontendTag: true, EnvDisableIstioSidecar: true,
	EnvMinioAccessKey: true, EnvMinioSecretKey: true, EnvControllerPort: true, EnvRetentionDays: true,
	EnvPodMetadataDir: true, EnvClusterRole: true, EnvAPIToken: true, EnvWorkflowSA: true,
	EnvCredentials: true, EnvIAMEndpoint: true, EnvS3Endpoint: true, EnvRegion: true,
	EnvAdminAccessKey: true, EnvAdminSecretKey: true,
}

type reader struct {
	env  map[string]string
	errs []string
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, name+": "+fmt.Sprintf(format, args...))
}

func (r *reader) str(name, def string) string {
	if v, ok := r.env[name]; ok {
		return strings.TrimSpace(v)
	}
	return def
}

func (r *reader) required(name, why string) string {
	v, ok := r.env[name]
	if !ok {
		r.fail(name, "required (%s)", why)
	}
	return v // credentials are used verbatim, spaces included
}

// unused fails for a variable set although the chosen mode ignores it:
// a half-migrated Deployment should say so, not run the other way.
func (r *reader) unused(mode string, names ...string) {
	for _, n := range names {
		if _, ok := r.env[n]; ok {
			r.fail(n, "not used with %s=%s", EnvCredentials, mode)
		}
	}
}

// boolean accepts what sync.py treats as true ("true", any case) and its
// explicit opposite; anything else is a mistake worth stopping for.
func (r *reader) boolean(name string) bool {
	v, ok := r.env[name]
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true
	case "false":
		return false
	}
	r.fail(name, "%q is not a boolean (want true or false)", v)
	return false
}

func (r *reader) port(name string, def int) int {
	v, ok := r.env[name]
	if !ok {
		return def
	}
	p, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || p < 1 || p > 65535 {
		r.fail(name, "%q is not a TCP port (1-65535)", v)
		return def
	}
	return p
}

// credentials reads how artifact Secrets get their keys: sync.py's two
// generations, told apart by whether the IAM endpoint is set unless
// OBJECT_STORE_CREDENTIALS says.
func (r *reader) credentials(s *Settings) {
	def := CredentialsShared
	if _, ok := r.env[EnvIAMEndpoint]; ok {
		def = CredentialsPerNamespace
	}
	s.Credentials = r.str(EnvCredentials, def)
	switch s.Credentials {
	case CredentialsShared:
		why := "the credentials of the mlpipeline-minio-artifact Secret created in namespaces that have none"
		s.MinioAccessKey = r.required(EnvMinioAccessKey, why)
		s.MinioSecretKey = r.required(EnvMinioSecretKey, why)
		r.unused(CredentialsShared, EnvIAMEndpoint, EnvS3Endpoint, EnvAdminAccessKey, EnvAdminSecretKey)
		if days := r.retentionDays(); days > 0 {
			r.fail(EnvRetentionDays, "%d: a retention period needs %s=%s (the lifecycle rule is set through SeaweedFS's S3 API); unset it or set -1",
				days, EnvCredentials, CredentialsPerNamespace)
		}
	case CredentialsPerNamespace:
		why := "the SeaweedFS admin identity that issues per-namespace keys"
		s.ObjectStoreAPI = objectstore.SeaweedFSConfig{
			IAMEndpoint:   r.required(EnvIAMEndpoint, "SeaweedFS's IAM API, e.g. http://seaweedfs.kubeflow:8111"),
			S3Endpoint:    r.str(EnvS3Endpoint, DefaultS3Endpoint),
			Region:        r.str(EnvRegion, DefaultRegion),
			Admin:         objectstore.Key{AccessKey: r.required(EnvAdminAccessKey, why), SecretKey: r.required(EnvAdminSecretKey, why)},
			Bucket:        bucket,
			RetentionDays: r.retentionDays(),
		}
		r.unused(CredentialsPerNamespace, EnvMinioAccessKey, EnvMinioSecretKey)
		if _, err := objectstore.NewSeaweedFS(s.ObjectStoreAPI); err != nil && s.ObjectStoreAPI.IAMEndpoint != "" {
			r.fail(EnvIAMEndpoint+"/"+EnvS3Endpoint, "%v", err)
		}
	default:
		r.fail(EnvCredentials, "%q: want %s or %s", s.Credentials, CredentialsPerNamespace, CredentialsShared)
	}
}

// retentionDays is sync.py's ARTIFACT_RETENTION_DAYS: days after which
// objects under private-artifacts/ expire; unset or not positive: never.
func (r *reader) retentionDays() int {
	v, ok := r.env[EnvRetentionDays]
	if !ok {
		return -1
	}
	d, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.fail(EnvRetentionDays, "%q is not a whole number of days", v)
		return -1
	}
	return d
}

func (r *reader) unknown() {
	for name := range r.env {
		if known[name] || serviceLink.MatchString(name) || !owned(name) {
			continue
		}
		msg := "unknown setting"
		if h, ok := hints[name]; ok {
			msg += ": " + h
		}
		r.fail(name, "%s (known: %s)", msg, strings.Join(knownNames(), ", "))
	}
}

func owned(name string) bool {
	for _, p := range ownedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func knownNames() []string {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// validate checks values that end up in object names, hosts and images.
func (s Settings) validate() []string {
	var errs []string
	add := func(name string, msgs []string) {
		for _, m := range msgs {
			errs = append(errs, fmt.Sprintf("%s: %s", name, m))
		}
	}
	add(EnvClusterDomain, validation.IsDNS1123Subdomain(strings.TrimPrefix(s.ClusterDomain, ".")))
	add(EnvObjectStoreHost, validation.IsDNS1123Subdomain(s.ObjectStoreHost))
	add(EnvClusterRole, validation.IsDNS1123Subdomain(s.ClusterRole))
	add(EnvWorkflowSA, validation.IsDNS1123Subdomain(s.WorkflowSA))
	if s.ArtifactsProxy && s.FrontendTag == "" {
		errs = append(errs, fmt.Sprintf("%s: the artifacts proxy needs the frontend image tag: set %s or %s", EnvArtifactsProxy, EnvFrontendTag, EnvKFPVersion))
	}
	// A registry may have a port (host:5000/name); the last segment may not
	// carry a tag or digest, as sync.py appends ":" + tag.
	last := s.FrontendImage[strings.LastIndex(s.FrontendImage, "/")+1:]
	if s.ArtifactsProxy && (strings.ContainsAny(last, ":@") || strings.ContainsAny(s.FrontendImage, " \t")) {
		errs = append(errs, fmt.Sprintf("%s: %q must be an image name without tag or digest (the tag is %s)", EnvFrontendImage, s.FrontendImage, EnvFrontendTag))
	}
	return errs
}

// Issuer returns what gives a namespace without an artifact Secret its key.
func (s Settings) Issuer() (objectstore.Issuer, error) {
	if s.Credentials == CredentialsPerNamespace {
		return objectstore.NewSeaweedFS(s.ObjectStoreAPI)
	}
	return objectstore.Shared{Key: objectstore.Key{AccessKey: s.MinioAccessKey, SecretKey: s.MinioSecretKey}}, nil
}
