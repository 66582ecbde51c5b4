package kubetest

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GetConfigMap implements kube.Interface.
func (f *Fake) GetConfigMap(_ context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("get", configMaps.Resource, namespace, name); err != nil {
		return nil, err
	}
	cm, ok := f.configMaps[key(namespace, name)]
	if !ok {
		return nil, apierrors.NewNotFound(configMaps, name)
	}
	return cm.DeepCopy(), nil
}

// GetPVC implements kube.Interface.
func (f *Fake) GetPVC(_ context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("get", pvcs.Resource, namespace, name); err != nil {
		return nil, err
	}
	p, ok := f.pvcs[key(namespace, name)]
	if !ok {
		return nil, apierrors.NewNotFound(pvcs, name)
	}
	return p.DeepCopy(), nil
}

// CreatePVC implements kube.Interface.
func (f *Fake) CreatePVC(_ context.Context, namespace string, pvc *corev1.PersistentVolumeClaim) (*corev1.PersistentVolumeClaim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("create", pvcs.Resource, namespace, pvc.Name); err != nil {
		return nil, err
	}
	switch {
	case pvc.Name == "":
		return nil, apierrors.NewBadRequest("name or generateName is required") // no generateName here
	case pvc.Namespace != "" && pvc.Namespace != namespace:
		return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	k := key(namespace, pvc.Name)
	if _, ok := f.pvcs[k]; ok {
		return nil, apierrors.NewAlreadyExists(pvcs, pvc.Name)
	}
	c := pvc.DeepCopy()
	c.Namespace = namespace
	c.UID, c.CreationTimestamp = "", metav1.Now()
	f.stamp(&c.ResourceVersion, &c.UID)
	f.pvcs[k] = c
	return c.DeepCopy(), nil
}

// DeletePVC implements kube.Interface. The PVC is gone at once (no
// finalizers run here).
func (f *Fake) DeletePVC(_ context.Context, namespace, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("delete", pvcs.Resource, namespace, name); err != nil {
		return err
	}
	k := key(namespace, name)
	if _, ok := f.pvcs[k]; !ok {
		return apierrors.NewNotFound(pvcs, name)
	}
	delete(f.pvcs, k)
	return nil
}
