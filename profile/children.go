package profile

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Names of the children sync.py creates; KFP's launcher, UI and Argo look
// them up by these names.
const (
	LauncherConfigMap   = "kfp-launcher"
	MetadataConfigMap   = "metadata-grpc-configmap"
	ArtifactRepoMap     = "artifact-repositories"
	ArtifactSecret      = pluginconfig.ArtifactSecret
	ArtifactProxy       = "ml-pipeline-ui-artifact"
	artifactRepoKey     = "default-namespaced"
	defaultRepoAnnot    = "workflows.argoproj.io/default-artifact-repository"
	bucket              = "mlpipeline"
	kfpNamespace        = "kubeflow" // where KFP's shared services run
	metadataServiceHost = "metadata-grpc-service." + kfpNamespace
)

// kfpChildren are the objects sync.py provisions, in its order.
func kfpChildren(ns string, s Settings, secret Object) []any {
	children := []any{
		launcherConfigMap(ns, s),
		metadataConfigMap(ns),
		artifactRepositories(ns, s),
	}
	if s.ArtifactsProxy {
		children = append(children, proxyDeployment(ns, s), proxyService(ns))
	}
	if secret != nil {
		children = append(children, secret)
	}
	return children
}

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       data,
	}
}

// launcherConfigMap: without a configured root, every namespace writes
// under its own prefix of the shared bucket, which the per-namespace
// credentials can be restricted to.
func launcherConfigMap(ns string, s Settings) *corev1.ConfigMap {
	root := s.DefaultPipelineRoot
	if root == "" {
		root = fmt.Sprintf("minio://%s/private-artifacts/%s/v2/artifacts", bucket, ns)
	}
	return configMap(ns, LauncherConfigMap, map[string]string{
		"defaultPipelineRoot": root,
		"clusterDomain":       s.ClusterDomain,
	})
}

func metadataConfigMap(ns string) *corev1.ConfigMap {
	return configMap(ns, MetadataConfigMap, map[string]string{
		"METADATA_GRPC_SERVICE_HOST": metadataServiceHost,
		"METADATA_GRPC_SERVICE_PORT": "8080",
	})
}

// s3Repository is the part of Argo's ArtifactRepository the hook fills; the
// field order fixes the JSON, so the output is stable.
type s3Repository struct {
	ArchiveLogs bool `json:"archiveLogs"`
	S3          struct {
		Endpoint        string       `json:"endpoint"`
		Bucket          string       `json:"bucket"`
		KeyFormat       string       `json:"keyFormat"`
		Insecure        bool         `json:"insecure"`
		AccessKeySecret secretKeyRef `json:"accessKeySecret"`
		SecretKeySecret secretKeyRef `json:"secretKeySecret"`
	} `json:"s3"`
}

type secretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// artifactRepositories is the namespace's default Argo artifact repository
// (logs and Argo-level artifacts), in the namespace's bucket prefix.
func artifactRepositories(ns string, s Settings) *corev1.ConfigMap {
	var repo s3Repository
	repo.ArchiveLogs = true
	repo.S3.Endpoint = fmt.Sprintf("%s.%s%s:9000", s.ObjectStoreHost, kfpNamespace, normalizedDomain(s.ClusterDomain))
	repo.S3.Bucket = bucket
	repo.S3.KeyFormat = "private-artifacts/" + ns +
		"/{{workflow.name}}/{{workflow.creationTimestamp.Y}}/{{workflow.creationTimestamp.m}}/{{workflow.creationTimestamp.d}}/{{pod.name}}"
	repo.S3.Insecure = true
	repo.S3.AccessKeySecret = secretKeyRef{Name: ArtifactSecret, Key: "accesskey"}
	repo.S3.SecretKeySecret = secretKeyRef{Name: ArtifactSecret, Key: "secretkey"}
	b, _ := json.Marshal(repo) // plain structs: cannot fail
	cm := configMap(ns, ArtifactRepoMap, map[string]string{artifactRepoKey: string(b)})
	cm.Annotations = map[string]string{defaultRepoAnnot: artifactRepoKey}
	return cm
}

func normalizedDomain(d string) string {
	if strings.HasPrefix(d, ".") {
		return d
	}
	return "." + d
}

// artifactSecret keeps an existing Secret as it is (its key may have been
// issued for this namespace only, or rotated by hand); otherwise keys issues
// one. The issuer is told when the Secret exists so it can forget the key.
func artifactSecret(ctx context.Context, ns string, observed map[string]map[string]Object, keys objectstore.Issuer) (Object, error) {
	if existing := find(observed["Secret.v1"], ns, ArtifactSecret); existing != nil {
		keys.Stored(ns)
		return keptSecret(existing), nil
	}
	k, err := keys.For(ctx, ns)
	if err != nil {
		return nil, fmt.Errorf("issuing the object-store key of namespace %q: %w", ns, err)
	}
	return ArtifactSecretFor(ns, k), nil
}

// ArtifactSecretFor is the artifact Secret carrying k.
func ArtifactSecretFor(ns string, k objectstore.Key) Object {
	enc := base64.StdEncoding.EncodeToString
	// type is explicit (the server's default) so that the Secret re-emitted
	// from its observed form on the next sync is identical: same hash.
	return Object{
		"apiVersion": "v1",
		"kind":       "Secret",
		"type":       string(corev1.SecretTypeOpaque),
		"metadata":   map[string]any{"name": ArtifactSecret, "namespace": ns},
		"data":       map[string]any{"accesskey": enc([]byte(k.AccessKey)), "secretkey": enc([]byte(k.SecretKey))},
	}
}

// keptSecret re-emits only identity, type and data: the rest (status,
// managedFields, resourceVersion, ...) belongs to the server.
func keptSecret(obj Object) Object {
	out := Object{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": name(obj), "namespace": namespaceOf(obj)},
	}
	if t, ok := obj["type"].(string); ok && t != "" {
		out["type"] = t
	}
	if data, ok := obj["data"].(map[string]any); ok {
		out["data"] = data
	}
	return out
}

// find returns the observed object ns/name of one type, matching on the
// object's own metadata so that the map key's form does not matter.
func find(objs map[string]Object, ns, n string) Object {
	for _, obj := range objs {
		if name(obj) == n && (namespaceOf(obj) == ns || namespaceOf(obj) == "") {
			return obj
		}
	}
	return nil
}

func proxyLabels() map[string]string { return map[string]string{"app": ArtifactProxy} }

func proxyDeployment(ns string, s Settings) *appsv1.Deployment {
	var annotations map[string]string
	if s.DisableIstioSidecar {
		annotations = map[string]string{"sidecar.istio.io/inject": "false"}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: ArtifactProxy, Namespace: ns, Labels: proxyLabels()},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: proxyLabels()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: proxyLabels(), Annotations: annotations},
				Spec: corev1.PodSpec{
					Containers:         []corev1.Container{proxyContainer(ns, s)},
					ServiceAccountName: s.WorkflowSA,
				},
			},
		},
	}
}

func proxyContainer(ns string, s Settings) corev1.Container {
	secretEnv := func(env, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: ArtifactSecret}, Key: key,
		}}}
	}
	return corev1.Container{
		Name:            ArtifactProxy,
		Image:           s.FrontendImage + ":" + s.FrontendTag,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Ports:           []corev1.ContainerPort{{ContainerPort: 3000}},
		Env: []corev1.EnvVar{
			secretEnv("MINIO_ACCESS_KEY", "accesskey"),
			secretEnv("MINIO_SECRET_KEY", "secretkey"),
			{Name: "ML_PIPELINE_SERVICE_HOST", Value: "ml-pipeline." + kfpNamespace + normalizedDomain(s.ClusterDomain)},
			{Name: "ML_PIPELINE_SERVICE_PORT", Value: "8888"},
			{Name: "FRONTEND_SERVER_NAMESPACE", Value: ns},
			{Name: "CLUSTER_DOMAIN", Value: s.ClusterDomain},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
		},
	}
}

func proxyService(ns string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: ArtifactProxy, Namespace: ns, Labels: proxyLabels()},
		Spec: corev1.ServiceSpec{
			// The port name tells Istio the protocol.
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(3000)}},
			Selector: proxyLabels(),
		},
	}
}
