package platform

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Placeholders PodFor uses where the patch leaves a required field empty.
const (
	PlaceholderPodName   = "kfp-platform-check"
	PlaceholderNamespace = "default"
	PlaceholderImage     = "registry.k8s.io/pause:3.10"
)

// PodFor wraps a pod spec patch in a Pod that the API server can validate
// (a server-side dry run): placeholder name and namespace, a placeholder
// image for containers that have none, and restartPolicy Never as Argo's
// executor pods have. spec itself is not modified.
//
// The patch is validated alone, without Argo's template (its launcher
// volume and scratch mounts), so it only succeeds for patches that do not
// refer to those.
func PodFor(spec *corev1.PodSpec) *corev1.Pod {
	s := spec.DeepCopy()
	for i := range s.Containers {
		if s.Containers[i].Image == "" {
			s.Containers[i].Image = PlaceholderImage
		}
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyNever
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: PlaceholderPodName, Namespace: PlaceholderNamespace},
		Spec:       *s,
	}
}
