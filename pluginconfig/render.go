package pluginconfig

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// Names that form the contract with Argo and with KFP's compiled workflows.
const (
	// PluginName makes Argo look for ServiceAccount
	// "ml-pipeline-driver-agent-executor-plugin" in the workflow's namespace.
	PluginName    = "ml-pipeline-driver-agent"
	ConfigMapName = PluginName + "-executor-plugin"
	// ServiceAccountName is the account Argo mounts into the sidecar.
	ServiceAccountName = PluginName + "-executor-plugin"
	// AgentClusterRole is what Argo's agent container needs; it runs as the
	// workflow's account, which installs bind to this role.
	AgentClusterRole = PluginName + "-agent"
	ContainerName    = "driver-plugin"
	// Port is the sidecar's port; Argo's docs warn against 80, 443, 8080,
	// 8081 and 8443, and Istio owns 15000-15090.
	Port = 7492
	// ArgoTokenUID is the owner Argo's agent gives the token file (mode 0440).
	ArgoTokenUID = 8737
	// SidecarGID is the sidecar's primary group. The token file is readable
	// by its owner (uid 8737, which the sidecar runs as), so the group adds
	// nothing to reading it; 8737 rather than the runtime's default 0 keeps
	// the sidecar out of the root group and whatever group 0 may read.
	SidecarGID   = 8737
	DefaultImage = "ghcr.io/kfp-driver-plugin/kfp-driver-plugin:0.1.0"
	Version      = "0.1.0"
	Description  = "Kubeflow Pipelines v2 driver (ROOT_DAG, DAG, CONTAINER) as an Argo executor plugin"

	ConfigMapTypeLabel       = "workflows.argoproj.io/configmap-type"
	PodLabelsAnnotation      = "pipelines.kubeflow.org/driver-pod-labels"
	PodAnnotationsAnnotation = "pipelines.kubeflow.org/driver-pod-annotations"
)

// Container is the plugin sidecar.
func (s Settings) Container() corev1.Container {
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intstr.FromInt32(Port),
		}}, PeriodSeconds: 10}
	}
	return corev1.Container{
		Name:  ContainerName,
		Image: s.Image,
		Args:  s.serveArgs(),
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: Port}},
		Env: []corev1.EnvVar{
			fieldEnv("POD_NAMESPACE", "metadata.namespace"),
			fieldEnv("KFP_POD_NAME", "metadata.name"),
			fieldEnv("KFP_POD_UID", "metadata.uid"),
			// The workflow's account (Argo runs the agent pod as it), for
			// the native line's run tokens.
			fieldEnv(EnvServiceAccount, "spec.serviceAccountName"),
			// The namespace's artifact key (optional: without it driver logs
			// stay on stderr).
			secretEnv(DriverLogsAccessKeyEnv, ArtifactSecret, "accesskey"),
			secretEnv(DriverLogsSecretKeyEnv, ArtifactSecret, "secretkey"),
		},
		Resources: corev1.ResourceRequirements{
			Requests: quantities(s.Requests),
			Limits:   quantities(s.Limits),
		},
		ReadinessProbe:  probe("/readyz"),
		LivenessProbe:   probe("/healthz"),
		SecurityContext: securityContext(),
	}
}

// serveArgs name the services the driver uses explicitly, with KFP's
// in-cluster defaults, so an admin sees where to change them (templates
// cannot: calls naming other endpoints fail).
func (s Settings) serveArgs() []string {
	args := []string{
		"serve", fmt.Sprintf("--addr=:%d", Port),
		"--mlmd-address=" + driver.DefaultMLMDHost, "--mlmd-port=" + driver.DefaultMLMDPort,
		"--ml-pipeline-address=" + driver.DefaultMLPipelineHost, "--ml-pipeline-port=" + driver.DefaultMLPipelinePort,
	}
	if s.APIToken != "" {
		args = append(args, "--api-token="+s.APIToken)
	}
	if s.DriverLogsEndpoint != DriverLogsOff && s.DriverLogsEndpoint != "" {
		args = append(args, "--driver-logs-endpoint="+s.DriverLogsEndpoint)
	}
	return args
}

// The sidecar's environment for the driver logs' key, and where it comes
// from: the namespace's artifact Secret, as the launcher's.
const (
	DriverLogsAccessKeyEnv = "DRIVER_LOGS_ACCESS_KEY"
	DriverLogsSecretKeyEnv = "DRIVER_LOGS_SECRET_KEY"
	ArtifactSecret         = "mlpipeline-minio-artifact"
)

func secretEnv(name, secret, key string) corev1.EnvVar {
	optional := true
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key, Optional: &optional,
	}}}
}

// securityContext lets the sidecar read Argo's token file (uid 8737, 0440)
// and nothing else: non-root, not in group 0, read-only root, no privilege
// escalation.
func securityContext() *corev1.SecurityContext {
	uid, gid := int64(ArgoTokenUID), int64(SidecarGID)
	yes, no := true, false
	return &corev1.SecurityContext{
		RunAsUser:                &uid,
		RunAsGroup:               &gid,
		RunAsNonRoot:             &yes,
		ReadOnlyRootFilesystem:   &yes,
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: path},
	}}
}

// quantities assumes validated settings.
func quantities(r Resources) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(r.CPU),
		corev1.ResourceMemory: resource.MustParse(r.Memory),
	}
}

// ConfigMap is the plugin registration Argo's controller loads. namespace may
// be empty (kustomize or kubectl -n sets it).
func (s Settings) ConfigMap(namespace string) (*corev1.ConfigMap, error) {
	container, err := yaml.Marshal(s.Container())
	if err != nil {
		return nil, err
	}
	labels, _ := json.Marshal(s.Labels) // map keys sorted: stable output
	annotations, _ := json.Marshal(s.Annotations)
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ConfigMapName,
			Namespace: namespace,
			Labels:    map[string]string{ConfigMapTypeLabel: "ExecutorPlugin"},
			Annotations: map[string]string{
				"workflows.argoproj.io/description": Description,
				"workflows.argoproj.io/version":     Version,
				PodLabelsAnnotation:                 string(labels),
				PodAnnotationsAnnotation:            string(annotations),
			},
		},
		Data: map[string]string{
			"sidecar.automountServiceAccountToken": "true",
			"sidecar.container":                    string(container),
		},
	}, nil
}

// ExecutorPlugin is the same sidecar as an `argo executor-plugin build`
// manifest (plugin.yaml).
type ExecutorPlugin struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Sidecar struct {
			AutomountServiceAccountToken bool             `json:"automountServiceAccountToken"`
			Container                    corev1.Container `json:"container"`
		} `json:"sidecar"`
	} `json:"spec"`
}

// Plugin renders the ExecutorPlugin manifest for s.
func (s Settings) Plugin() ExecutorPlugin {
	p := ExecutorPlugin{APIVersion: "argoproj.io/v1alpha1", Kind: "ExecutorPlugin"}
	p.Metadata = metav1.ObjectMeta{Name: PluginName, Annotations: map[string]string{
		"workflows.argoproj.io/description": Description,
		"workflows.argoproj.io/version":     Version,
	}}
	p.Spec.Sidecar.AutomountServiceAccountToken = true
	p.Spec.Sidecar.Container = s.Container()
	return p
}

// PodMetadata is what the admin wants on every agent pod.
type PodMetadata struct {
	Labels      map[string]string
	Annotations map[string]string
}

// ReadPodMetadata takes the pod labels and annotations back from a plugin
// ConfigMap's annotations. Reserved keys are dropped again, so a hand-edited
// ConfigMap cannot smuggle them in.
func ReadPodMetadata(cmAnnotations map[string]string) (PodMetadata, error) {
	md := PodMetadata{Labels: map[string]string{}, Annotations: map[string]string{}}
	for key, dst := range map[string]map[string]string{PodLabelsAnnotation: md.Labels, PodAnnotationsAnnotation: md.Annotations} {
		v, ok := cmAnnotations[key]
		if !ok || v == "" {
			continue
		}
		if err := mergeMap(dst, []byte(v)); err != nil {
			return PodMetadata{}, fmt.Errorf("annotation %s: %v", key, err)
		}
		dropReserved("key", dst)
	}
	return md, nil
}
