package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
	"google.golang.org/protobuf/encoding/protojson"
)

// The types below mirror KubernetesExecutorConfig as the kfp-kubernetes
// proto defines it at the commit our test data comes from, which is newer
// than the kubernetes_platform Go module we build against. We decode the raw
// protojson into them instead of into the generated type so that newer fields
// (secretNameParameter, tolerationJson, securityContext, initContainers, ...)
// are not lost. JSON tags are the protojson (lowerCamelCase) names; the key
// check in keys.go also accepts the proto (snake_case) names.

type execConfig struct {
	SecretAsVolume         []secretAsVolume         `json:"secretAsVolume"`
	SecretAsEnv            []secretAsEnv            `json:"secretAsEnv"`
	PvcMount               []pvcMount               `json:"pvcMount"`
	NodeSelector           *nodeSelector            `json:"nodeSelector"`
	PodMetadata            *objectMeta              `json:"podMetadata"`
	ImagePullSecret        []imagePullSecret        `json:"imagePullSecret"`
	ImagePullPolicy        string                   `json:"imagePullPolicy"`
	ConfigMapAsVolume      []configMapAsVolume      `json:"configMapAsVolume"`
	ConfigMapAsEnv         []configMapAsEnv         `json:"configMapAsEnv"`
	ActiveDeadlineSeconds  protoInt64               `json:"activeDeadlineSeconds"`
	FieldPathAsEnv         []fieldPathAsEnv         `json:"fieldPathAsEnv"`
	Tolerations            []toleration             `json:"tolerations"`
	GenericEphemeralVolume []genericEphemeralVolume `json:"genericEphemeralVolume"`
	NodeAffinity           []nodeAffinityTerm       `json:"nodeAffinity"`
	PodAffinity            []podAffinityTerm        `json:"podAffinity"`
	EnabledSharedMemory    *sharedMemory            `json:"enabledSharedMemory"`
	EmptyDirMounts         []emptyDirMount          `json:"emptyDirMounts"`
	SecurityContext        *securityContext         `json:"securityContext"`
	InitContainers         []initContainer          `json:"initContainers"`
}

type secretAsVolume struct {
	SecretName          string     `json:"secretName"`
	MountPath           string     `json:"mountPath"`
	Optional            *bool      `json:"optional"`
	SecretNameParameter *paramSpec `json:"secretNameParameter"`
}

type secretAsEnv struct {
	SecretName          string           `json:"secretName"`
	KeyToEnv            []secretKeyToEnv `json:"keyToEnv"`
	Optional            *bool            `json:"optional"`
	SecretNameParameter *paramSpec       `json:"secretNameParameter"`
}

type secretKeyToEnv struct {
	SecretKey string `json:"secretKey"`
	EnvVar    string `json:"envVar"`
}

type configMapAsVolume struct {
	ConfigMapName          string     `json:"configMapName"`
	MountPath              string     `json:"mountPath"`
	Optional               *bool      `json:"optional"`
	ConfigMapNameParameter *paramSpec `json:"configMapNameParameter"`
}

type configMapAsEnv struct {
	ConfigMapName          string              `json:"configMapName"`
	KeyToEnv               []configMapKeyToEnv `json:"keyToEnv"`
	ConfigMapNameParameter *paramSpec          `json:"configMapNameParameter"`
	Optional               *bool               `json:"optional"`
}

type configMapKeyToEnv struct {
	ConfigMapKey string `json:"configMapKey"`
	EnvVar       string `json:"envVar"`
}

type pvcMount struct {
	// The deprecated pvc_reference oneof.
	TaskOutputParameter     *taskOutputRef `json:"taskOutputParameter"`
	Constant                string         `json:"constant"`
	ComponentInputParameter string         `json:"componentInputParameter"`
	MountPath               string         `json:"mountPath"`
	PvcNameParameter        *paramSpec     `json:"pvcNameParameter"`
	SubPath                 string         `json:"subPath"`
}

type taskOutputRef struct {
	ProducerTask       string `json:"producerTask"`
	OutputParameterKey string `json:"outputParameterKey"`
}

type nodeSelector struct {
	Labels           map[string]string `json:"labels"`
	NodeSelectorJSON *paramSpec        `json:"nodeSelectorJson"`
}

type objectMeta struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type imagePullSecret struct {
	SecretName          string     `json:"secretName"`
	SecretNameParameter *paramSpec `json:"secretNameParameter"`
}

type fieldPathAsEnv struct {
	Name      string `json:"name"`
	FieldPath string `json:"fieldPath"`
}

type toleration struct {
	Key               string      `json:"key"`
	Operator          string      `json:"operator"`
	Value             string      `json:"value"`
	Effect            string      `json:"effect"`
	TolerationSeconds *protoInt64 `json:"tolerationSeconds"`
	TolerationJSON    *paramSpec  `json:"tolerationJson"`
}

type selectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

type nodeAffinityTerm struct {
	MatchExpressions []selectorRequirement `json:"matchExpressions"`
	MatchFields      []selectorRequirement `json:"matchFields"`
	Weight           *protoInt32           `json:"weight"`
	NodeAffinityJSON *paramSpec            `json:"nodeAffinityJson"`
}

type podAffinityTerm struct {
	MatchPodExpressions       []selectorRequirement `json:"matchPodExpressions"`
	MatchPodLabels            map[string]string     `json:"matchPodLabels"`
	TopologyKey               string                `json:"topologyKey"`
	Namespaces                []string              `json:"namespaces"`
	MatchNamespaceExpressions []selectorRequirement `json:"matchNamespaceExpressions"`
	MatchNamespaceLabels      map[string]string     `json:"matchNamespaceLabels"`
	Weight                    *protoInt32           `json:"weight"`
	Anti                      *bool                 `json:"anti"`
}

type genericEphemeralVolume struct {
	VolumeName          string      `json:"volumeName"`
	MountPath           string      `json:"mountPath"`
	AccessModes         []string    `json:"accessModes"`
	Size                string      `json:"size"`
	DefaultStorageClass bool        `json:"defaultStorageClass"`
	StorageClassName    string      `json:"storageClassName"`
	Metadata            *objectMeta `json:"metadata"`
}

type sharedMemory struct {
	VolumeName string `json:"volumeName"`
	Size       string `json:"size"`
}

type emptyDirMount struct {
	VolumeName string  `json:"volumeName"`
	MountPath  string  `json:"mountPath"`
	Medium     *string `json:"medium"`
	SizeLimit  *string `json:"sizeLimit"`
}

type securityContext struct {
	RunAsUser    *protoInt64 `json:"runAsUser"`
	RunAsGroup   *protoInt64 `json:"runAsGroup"`
	RunAsNonRoot *bool       `json:"runAsNonRoot"`
}

type initContainer struct {
	Name          string               `json:"name"`
	Image         string               `json:"image"`
	Command       []string             `json:"command"`
	Args          []string             `json:"args"`
	Env           []initEnvVar         `json:"env"`
	VolumeMounts  []initVolumeMount    `json:"volumeMounts"`
	RestartPolicy *string              `json:"restartPolicy"`
	Resources     *initContainerLimits `json:"resources"`
}

type initEnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type initVolumeMount struct {
	VolumeName string `json:"volumeName"`
	MountPath  string `json:"mountPath"`
}

type initContainerLimits struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

// unsupportedFields are proto fields we know about but deliberately do not
// map: the task is rejected with the reason instead of the field being
// dropped.
var unsupportedFields = map[string]string{
	"podResourceClaims": "dynamic resource allocation claims are not mapped by this driver; " +
		"the claim and container claim names KFP would generate are not specified",
}

// paramSpec is an InputParameterSpec (constant, component input or upstream
// task output), decoded with protojson so that both JSON naming styles and
// every kind KFP defines are understood.
type paramSpec struct {
	spec *pipelinespec.TaskInputsSpec_InputParameterSpec
}

func (p *paramSpec) UnmarshalJSON(b []byte) error {
	spec := &pipelinespec.TaskInputsSpec_InputParameterSpec{}
	if err := protojson.Unmarshal(b, spec); err != nil {
		return err
	}
	p.spec = spec
	return nil
}

// protoInt64 accepts what protojson accepts for int64: a JSON number or a
// decimal string (protojson writes int64 as a string, e.g. "20").
type protoInt64 int64

func (v *protoInt64) UnmarshalJSON(b []byte) error {
	n, err := parseProtoInt(b, 64)
	*v = protoInt64(n)
	return err
}

// protoInt32 is protoInt64's int32 counterpart (protojson writes int32 as a
// number but accepts a string).
type protoInt32 int32

func (v *protoInt32) UnmarshalJSON(b []byte) error {
	n, err := parseProtoInt(b, 32)
	*v = protoInt32(n)
	return err
}

func parseProtoInt(b []byte, bits int) (int64, error) {
	s := string(bytes.TrimSpace(b))
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	if n, err := strconv.ParseInt(s, 10, bits); err == nil {
		return n, nil
	}
	// protojson also accepts integral numbers written with an exponent or a
	// fraction of zero (the SDK writes weights as 50.0 in YAML).
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("%s is not an integer", s)
	}
	n := int64(f)
	if bits == 32 && (n < -1<<31 || n > 1<<31-1) {
		return 0, fmt.Errorf("%s is out of range for int32", s)
	}
	return n, nil
}

// rawConfig returns the JSON to decode: raw when given (it may hold fields the
// generated type lacks), else cfg re-encoded, else an empty config.
func rawConfig(cfg *kubernetesplatform.KubernetesExecutorConfig, raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) > 0 {
		return raw, nil
	}
	if cfg == nil {
		return []byte("{}"), nil
	}
	b, err := protojson.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes_config: encoding the typed config: %w", err)
	}
	return b, nil
}

// decodeConfig checks every key of raw against the fields above (keys.go)
// and decodes it.
func decodeConfig(raw []byte) (*execConfig, error) {
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("kubernetes_config: not valid JSON: %w", err)
	}
	if tree == nil {
		tree = map[string]any{}
	}
	normal, err := checkKeys(tree, execConfigType, "")
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(normal)
	if err != nil {
		return nil, fmt.Errorf("kubernetes_config: %w", err)
	}
	cfg := &execConfig{}
	if err := json.Unmarshal(b, cfg); err != nil {
		// checkKeys has type-checked every value, so this is a bug here.
		return nil, fmt.Errorf("kubernetes_config: %w", err)
	}
	return cfg, nil
}
