package profile

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

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

	// Ours: where the plugin's pod metadata is mounted, which ClusterRole the
	// plugin account is bound to, whether agent pods get a KFP API token,
	// and which account workflows run as.
	EnvPodMetadataDir = "DRIVER_PLUGIN_POD_METADATA_DIR"
	EnvClusterRole    = "DRIVER_PLUGIN_CLUSTER_ROLE"
	EnvAPIToken       = "DRIVER_PLUGIN_API_TOKEN"
	EnvWorkflowSA     = "WORKFLOW_SERVICE_ACCOUNT"
)

// Defaults, as sync.py has them where it has them.
const (
	DefaultClusterDomain   = ".svc.cluster.local"
	DefaultObjectStoreHost = "seaweedfs"
	DefaultFrontendImage   = "ghcr.io/kubeflow/kfp-frontend"
	DefaultControllerPort  = 8080
	DefaultClusterRole     = pluginconfig.ServiceAccountName
	DefaultWorkflowSA      = "default-editor"
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
	ControllerPort      int
	PodMetadataDir      string
	ClusterRole         string
	APIToken            bool
	WorkflowSA          string
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
		MinioAccessKey:      r.required(EnvMinioAccessKey),
		MinioSecretKey:      r.required(EnvMinioSecretKey),
		ControllerPort:      r.port(EnvControllerPort, DefaultControllerPort),
		PodMetadataDir:      r.str(EnvPodMetadataDir, ""),
		ClusterRole:         r.str(EnvClusterRole, DefaultClusterRole),
		APIToken:            r.boolean(EnvAPIToken),
		WorkflowSA:          r.str(EnvWorkflowSA, DefaultWorkflowSA),
	}
	r.retention()
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

func (r *reader) required(name string) string {
	v, ok := r.env[name]
	if !ok {
		r.fail(name, "required (the credentials of the mlpipeline-minio-artifact Secret created in namespaces that have none)")
	}
	return v // credentials are used verbatim, spaces included
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

// retention: sync.py can give the shared bucket a lifecycle policy through
// SeaweedFS's API. A pure hook does not call object stores, so only "off"
// is accepted rather than silently not honouring a retention period.
func (r *reader) retention() {
	v, ok := r.env[EnvRetentionDays]
	if !ok {
		return
	}
	if d, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || d > 0 {
		r.fail(EnvRetentionDays, "%q: bucket lifecycle policies are not managed by this controller; unset it or set -1 and configure retention on the object store", v)
	}
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
