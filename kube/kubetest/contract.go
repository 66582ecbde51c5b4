package kubetest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
)

// Contract checks that k answers the driver's calls the way the API server
// does: run on the Fake and on a real client, it keeps the two in step.
// name must not exist in namespace yet. A deleted PVC may linger with a
// deletion timestamp (a real server's pvc-protection finalizer) or be gone.
func Contract(t *testing.T, k kube.Interface, namespace, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := k.GetConfigMap(ctx, namespace, name); !apierrors.IsNotFound(err) {
		t.Errorf("GetConfigMap of a missing ConfigMap: %v, want NotFound", err)
	}
	if _, err := k.GetPVC(ctx, namespace, name); !apierrors.IsNotFound(err) {
		t.Errorf("GetPVC of a missing PVC: %v, want NotFound", err)
	}
	want := ContractPVC(name)
	got, err := k.CreatePVC(ctx, namespace, want)
	if err != nil {
		t.Fatalf("CreatePVC: %v", err)
	}
	if got.Name != name || got.Namespace != namespace || got.UID == "" || got.ResourceVersion == "" {
		t.Errorf("created PVC identity: %s/%s uid %q rv %q", got.Namespace, got.Name, got.UID, got.ResourceVersion)
	}
	if q := got.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "1Gi" || got.Annotations["a"] != "b" {
		t.Errorf("created PVC spec: %v, annotations %v", got.Spec, got.Annotations)
	}
	if _, err := k.CreatePVC(ctx, namespace, want); !apierrors.IsAlreadyExists(err) || kube.IsTransient(err) {
		t.Errorf("second CreatePVC: %v, want AlreadyExists, not transient", err)
	}
	again, err := k.GetPVC(ctx, namespace, name)
	if err != nil || again.UID != got.UID {
		t.Fatalf("GetPVC: %v, %v (uid %s, want %s)", again, err, again.GetUID(), got.UID)
	}
	if err := k.DeletePVC(ctx, namespace, name); err != nil {
		t.Fatalf("DeletePVC: %v", err)
	}
	if after, err := k.GetPVC(ctx, namespace, name); err == nil && after.DeletionTimestamp == nil {
		t.Errorf("PVC still there after DeletePVC, not being deleted: %+v", after.ObjectMeta)
	} else if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("GetPVC after DeletePVC: %v", err)
	}
	if err := k.DeletePVC(ctx, namespace, name+"-missing"); !apierrors.IsNotFound(err) {
		t.Errorf("DeletePVC of a missing PVC: %v, want NotFound", err)
	}
}

// ContractPVC is the PVC Contract creates.
func ContractPVC(name string) *corev1.PersistentVolumeClaim {
	class := "standard"
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"a": "b"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			StorageClassName: &class,
		},
	}
}
