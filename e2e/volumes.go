package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// startProvisioner stands in for a storage provisioner (the node has none):
// every claim that is Pending without a volume gets a hostPath
// PersistentVolume on the node, pre-bound to it with the claim's class,
// size and access modes; the controller-manager's volume controller binds
// them and the kubelet mounts the directory.
func (s *Stack) startProvisioner(ctx context.Context) error {
	f := informers.NewSharedInformerFactory(s.Cluster.Client, 0)
	inf := f.Core().V1().PersistentVolumeClaims().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.provision(o) },
		UpdateFunc: func(_, o any) { s.provision(o) },
	})
	if err != nil {
		return err
	}
	s.stopInformers = make(chan struct{})
	f.Start(s.stopInformers)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("claim informer did not sync")
	}
	return nil
}

func (s *Stack) provision(o any) {
	pvc, ok := o.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.DeletionTimestamp != nil {
		return
	}
	size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if size.IsZero() {
		size = resource.MustParse("1Mi")
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	dirType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-" + string(pvc.UID)},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: filepath.Join(s.Dir, "volumes", pvc.Namespace+"-"+pvc.Name+"-"+string(pvc.UID)), Type: &dirType}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Cluster.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		s.logf("provisioner: claim %s/%s: %v", pvc.Namespace, pvc.Name, err)
	}
}

// createSecrets creates Secrets a pipeline's kfp-kubernetes config names
// (a user creates them before running such a pipeline).
func (s *Stack) createSecrets(ctx context.Context, ns string, names []string) error {
	for _, n := range names {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns},
			StringData: kfpTestSecrets[n]}
		if sec.StringData == nil {
			return fmt.Errorf("secret %s: not one of KFP's test secrets", n)
		}
		if _, err := s.Cluster.Client.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("secret %s/%s: %w", ns, n, err)
		}
	}
	return nil
}

// kfpTestSecrets are the Secrets KFP's own kfp-kubernetes tests create,
// which the corpus components check from inside their container (e.g.
// `assert username == "user1"`).
var kfpTestSecrets = map[string]map[string]string{
	"test-secret-1": {"username": "user1"},
	"test-secret-2": {"password": "psw1"},
	"test-secret-3": {"password": "psw2"},
}

// createClaims creates PersistentVolumeClaims a pipeline mounts by name.
func (s *Stack) createClaims(ctx context.Context, ns string, names []string) error {
	for _, n := range names {
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Mi")}}}}
		if _, err := s.Cluster.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("claim %s/%s: %w", ns, n, err)
		}
	}
	return nil
}
