// Package pluginconfig turns the administrator's driver settings (the ones
// KFP reads for its driver pods: DRIVER_POD_LABELS, DRIVER_POD_ANNOTATIONS,
// V2_DRIVER_CONFIG, DRIVER_RESOURCE_*) into the Argo executor-plugin
// ConfigMap, so the plugin sidecar's container spec and the agent pod's
// metadata come from one place.
//
// Precedence, lowest first: built-in defaults; the config file (the
// `driver-config` key of a `kfp-driver-config` ConfigMap mounted as a file);
// V2_DRIVER_CONFIG; DRIVER_POD_LABELS / DRIVER_POD_ANNOTATIONS, per key;
// DRIVER_RESOURCE_* variables, per value. The image comes from the --image
// flag, else KFP_DRIVER_PLUGIN_IMAGE, else DefaultImage.
//
// Argo never copies ConfigMap metadata onto pods, so the pod labels and
// annotations travel on the ConfigMap as JSON annotations (PodLabelsAnnotation,
// PodAnnotationsAnnotation) from which the profile controller (PodDefault)
// and the convert command (spec.podMetadata) apply them to agent pods.
package pluginconfig

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
)

// Environment variables read, as KFP's API server names them.
const (
	EnvPodLabels      = "DRIVER_POD_LABELS"
	EnvPodAnnotations = "DRIVER_POD_ANNOTATIONS"
	EnvDriverConfig   = "V2_DRIVER_CONFIG"
	EnvRequestsCPU    = "DRIVER_RESOURCE_REQUESTS_CPU"
	EnvRequestsMemory = "DRIVER_RESOURCE_REQUESTS_MEMORY"
	EnvLimitsCPU      = "DRIVER_RESOURCE_LIMITS_CPU"
	EnvLimitsMemory   = "DRIVER_RESOURCE_LIMITS_MEMORY"
	EnvImage          = "KFP_DRIVER_PLUGIN_IMAGE"
	// EnvDriverLogs is ours: the object store's S3 endpoint the sidecar
	// keeps each step's driver log in, or DriverLogsOff.
	EnvDriverLogs = "KFP_DRIVER_PLUGIN_DRIVER_LOGS_ENDPOINT"
	// EnvAPIToken is ours: how the native line's calls to the KFP API
	// server authenticate, APITokenRequest or APITokenNone.
	EnvAPIToken = "KFP_DRIVER_PLUGIN_API_TOKEN"
)

// Values of EnvAPIToken (the serve command's --api-token).
const (
	// APITokenRequest: a token of the workflow's service account for the
	// run's audience, from the TokenRequest API (KFP's driver pod token).
	APITokenRequest = "tokenrequest"
	// APITokenNone: no token (a KFP install without authentication).
	APITokenNone = "none"
)

// EnvServiceAccount is the sidecar's variable for the agent pod's service
// account, which is the workflow's (downward API).
const EnvServiceAccount = "POD_SERVICE_ACCOUNT"

// DefaultDriverLogsEndpoint is where KFP's launcher finds minio:// roots by
// default (KFP's SeaweedFS install keeps the minio-service name).
const DefaultDriverLogsEndpoint = "http://minio-service.kubeflow:9000"

// DriverLogsOff as EnvDriverLogs keeps driver logs on stderr only.
const DriverLogsOff = "off"

// ReservedPrefixes are label and annotation prefixes owned by KFP and Argo;
// admin keys under them are dropped so they can never spoof system metadata.
var ReservedPrefixes = []string{"pipelines.kubeflow.org/", "workflows.argoproj.io/"}

// Resources is a request or limit pair, as Kubernetes quantities.
type Resources struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Settings are the validated driver settings.
type Settings struct {
	Image       string
	Labels      map[string]string
	Annotations map[string]string
	Requests    Resources
	Limits      Resources
	// DriverLogsEndpoint is the S3 endpoint for driver logs, or
	// DriverLogsOff.
	DriverLogsEndpoint string
	// APIToken is APITokenRequest or APITokenNone.
	APIToken string
}

// Defaults are KFP's driver pod defaults.
func Defaults() Settings {
	return Settings{
		Image:       DefaultImage,
		Labels:      map[string]string{},
		Annotations: map[string]string{},
		Requests:    Resources{CPU: "100m", Memory: "128Mi"},
		Limits:      Resources{CPU: "500m", Memory: "512Mi"},

		DriverLogsEndpoint: DefaultDriverLogsEndpoint,
		APIToken:           APITokenRequest,
	}
}

// Sources are where settings come from. Lookup reads the environment.
type Sources struct {
	Lookup     func(string) (string, bool)
	ConfigFile []byte // may be nil
	FileName   string // for messages
	Image      string // the --image flag; "" when not given
}

// Load merges the sources by precedence and validates the result. All
// problems are reported together; warnings (e.g. dropped reserved keys) are
// returned separately for stderr.
func Load(src Sources) (Settings, []string, error) {
	s := Defaults()
	var errs, warnings []string
	report := func(source string, err error) {
		for _, e := range splitErrors(err) {
			errs = append(errs, source+": "+e)
		}
	}
	if len(src.ConfigFile) > 0 {
		name := src.FileName
		if name == "" {
			name = "config file"
		}
		report(name, s.mergeDocument(src.ConfigFile, true))
	}
	if v, ok := lookup(src, EnvDriverConfig); ok {
		report(EnvDriverConfig, s.mergeDocument([]byte(v), false))
	}
	if v, ok := lookup(src, EnvPodLabels); ok {
		report(EnvPodLabels, mergeMap(s.Labels, []byte(v)))
	}
	if v, ok := lookup(src, EnvPodAnnotations); ok {
		report(EnvPodAnnotations, mergeMap(s.Annotations, []byte(v)))
	}
	for env, field := range map[string]*string{
		EnvRequestsCPU: &s.Requests.CPU, EnvRequestsMemory: &s.Requests.Memory,
		EnvLimitsCPU: &s.Limits.CPU, EnvLimitsMemory: &s.Limits.Memory,
	} {
		if v, ok := lookup(src, env); ok {
			*field = v
		}
	}
	if v, ok := lookup(src, EnvImage); ok {
		s.Image = v
	}
	if src.Image != "" {
		s.Image = src.Image
	}
	if v, ok := lookup(src, EnvDriverLogs); ok {
		s.DriverLogsEndpoint = strings.TrimSpace(v)
	}
	if v, ok := lookup(src, EnvAPIToken); ok {
		s.APIToken = strings.TrimSpace(v)
	}
	warnings = append(warnings, dropReserved("label", s.Labels)...)
	warnings = append(warnings, dropReserved("annotation", s.Annotations)...)
	errs = append(errs, s.validate()...)
	if len(errs) > 0 {
		sort.Strings(errs)
		return Settings{}, warnings, errors.New(strings.Join(errs, "\n"))
	}
	return s, warnings, nil
}

// lookup treats an empty variable as unset, the way an optional
// configMapKeyRef that resolves to nothing behaves.
func lookup(src Sources, name string) (string, bool) {
	if src.Lookup == nil {
		return "", false
	}
	v, ok := src.Lookup(name)
	if strings.TrimSpace(v) == "" {
		return "", false
	}
	return v, ok
}

func splitErrors(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// dropReserved removes keys under ReservedPrefixes and says which.
func dropReserved(kind string, m map[string]string) []string {
	var warnings []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if IsReserved(k) {
			delete(m, k)
			warnings = append(warnings, fmt.Sprintf("dropping %s %q: the prefix is reserved for Kubeflow Pipelines and Argo", kind, k))
		}
	}
	return warnings
}

// IsReserved reports whether key is under one of ReservedPrefixes.
func IsReserved(key string) bool {
	for _, p := range ReservedPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

func (s *Settings) validate() []string {
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Sprintf("label key %q: %s", k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(s.Labels[k]) {
			errs = append(errs, fmt.Sprintf("label %q value %q: %s", k, s.Labels[k], msg))
		}
	}
	total := 0
	for _, k := range slices.Sorted(maps.Keys(s.Annotations)) {
		total += len(k) + len(s.Annotations[k])
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, fmt.Sprintf("annotation key %q: %s", k, msg))
		}
	}
	if total > 256*1024 {
		errs = append(errs, fmt.Sprintf("annotations total %d bytes, more than Kubernetes' 256 KiB", total))
	}
	if strings.TrimSpace(s.Image) == "" {
		errs = append(errs, "image must not be empty")
	}
	if s.DriverLogsEndpoint != DriverLogsOff {
		if _, err := objectstore.ParseEndpoint(s.DriverLogsEndpoint); err != nil {
			errs = append(errs, fmt.Sprintf("%s %q: want http(s)://host[:port] or %s", EnvDriverLogs, s.DriverLogsEndpoint, DriverLogsOff))
		}
	}
	if s.APIToken != APITokenRequest && s.APIToken != APITokenNone {
		errs = append(errs, fmt.Sprintf("%s %q: want %s or %s", EnvAPIToken, s.APIToken, APITokenRequest, APITokenNone))
	}
	return append(errs, s.validateResources()...)
}

func (s *Settings) validateResources() []string {
	var errs []string
	parse := func(env, v string) *resource.Quantity {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s %q: not a Kubernetes quantity", env, v))
			return nil
		}
		return &q
	}
	pairs := []struct{ reqEnv, req, limEnv, lim string }{
		{EnvRequestsCPU, s.Requests.CPU, EnvLimitsCPU, s.Limits.CPU},
		{EnvRequestsMemory, s.Requests.Memory, EnvLimitsMemory, s.Limits.Memory},
	}
	for _, p := range pairs {
		req, lim := parse(p.reqEnv, p.req), parse(p.limEnv, p.lim)
		if req != nil && lim != nil && req.Cmp(*lim) > 0 {
			errs = append(errs, fmt.Sprintf("%s %s is more than %s %s", p.reqEnv, p.req, p.limEnv, p.lim))
		}
	}
	return errs
}
