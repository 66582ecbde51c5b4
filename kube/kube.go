// Package kube is the driver's Kubernetes API client: only the calls the
// driver makes (read a ConfigMap; get, create and delete a PVC; mint a
// service-account token for the KFP API), over a core/v1 REST client.
//
// It exists for memory: client-go's generated clientset registers every API
// group in its scheme at init, which costs the sidecar ~20 MiB of resident
// memory although the driver touches two core resources. Errors are the API
// server's own (apimachinery StatusError), so apierrors.IsNotFound and
// friends work on them as on the clientset's.
package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Interface is what the driver needs from the API server. Implementations
// return apierrors-compatible errors (a *StatusError for server answers).
type Interface interface {
	// GetConfigMap reads namespace/name.
	GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	// GetPVC reads namespace/name.
	GetPVC(ctx context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error)
	// CreatePVC creates pvc in namespace and returns the stored object.
	CreatePVC(ctx context.Context, namespace string, pvc *corev1.PersistentVolumeClaim) (*corev1.PersistentVolumeClaim, error)
	// DeletePVC deletes namespace/name (background propagation: the call
	// returns once the deletion is accepted, finalizers may keep it).
	DeletePVC(ctx context.Context, namespace, name string) error
}
