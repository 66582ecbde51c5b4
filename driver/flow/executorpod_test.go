package flow_test

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// executorPodSpec is the pod spec Argo builds from KFP's compiled
// system-container-impl template (KFP 2.x compiler, Argo's emissary
// executor) before it applies the driver's pod spec patch: Argo's init and
// wait containers and var-run-argo volume; KFP's kfp-launcher init
// container, and the main container with the launcher and scratch mounts
// whose emptyDir volumes the template declares. The patch is only valid in
// this context: its main container has no image of its own in KFP's
// template, and tasks may refer to these volumes.
func executorPodSpec() corev1.PodSpec {
	argoexec := "quay.io/argoproj/argoexec:v3.7.18"
	argoMount := corev1.VolumeMount{Name: "var-run-argo", MountPath: "/var/run/argo"}
	hardened := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptrTo(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	spec := corev1.PodSpec{
		RestartPolicy:   corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		InitContainers: []corev1.Container{
			{Name: "init", Image: argoexec, Command: []string{"argoexec", "init"}, VolumeMounts: []corev1.VolumeMount{argoMount}},
			{Name: "kfp-launcher", Image: "ghcr.io/kubeflow/kfp-launcher:2.14.3", Command: []string{"launcher-v2"},
				Args: []string{"--copy", "/kfp-launcher/launch"}, SecurityContext: hardened,
				VolumeMounts: []corev1.VolumeMount{{Name: "kfp-launcher", MountPath: "/kfp-launcher"}}},
		},
		Containers: []corev1.Container{
			{Name: "wait", Image: argoexec, Command: []string{"argoexec", "wait"}, VolumeMounts: []corev1.VolumeMount{argoMount}},
			{Name: "main", Image: "gcr.io/ml-pipeline/should-be-overridden-during-runtime",
				Command: []string{"/var/run/argo/argoexec", "emissary", "--", "should-be-overridden-during-runtime"},
				Env: []corev1.EnvVar{
					{Name: "KFP_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "KFP_POD_UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
				},
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "metadata-grpc-configmap"}, Optional: ptrTo(true)}}},
				SecurityContext: hardened,
				VolumeMounts:    []corev1.VolumeMount{argoMount},
			},
		},
		Volumes: []corev1.Volume{{Name: "var-run-argo", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
	for _, s := range []struct{ name, path string }{
		{"kfp-launcher", "/kfp-launcher"}, {"gcs-scratch", "/gcs"}, {"s3-scratch", "/s3"}, {"minio-scratch", "/minio"},
		{"dot-local-scratch", "/.local"}, {"dot-cache-scratch", "/.cache"}, {"dot-config-scratch", "/.config"},
	} {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: s.name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		spec.Containers[1].VolumeMounts = append(spec.Containers[1].VolumeMounts, corev1.VolumeMount{Name: s.name, MountPath: s.path})
	}
	return spec
}

// applyPatch merges a pod spec patch into base the way Argo applies a
// template's podSpecPatch: a strategic merge patch on the PodSpec type
// (containers, volumes and env merged by name, mounts by path).
func applyPatch(t *testing.T, base corev1.PodSpec, patch string) corev1.PodSpec {
	t.Helper()
	b, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(b, []byte(patch), corev1.PodSpec{})
	if err != nil {
		t.Fatalf("merging the pod spec patch: %v", err)
	}
	var out corev1.PodSpec
	if err := json.Unmarshal(merged, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }
