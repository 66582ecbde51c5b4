package kube

import (
	"context"
	"fmt"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// UserAgent is sent when the config names none.
const UserAgent = "kfp-driver-plugin"

// QPS and Burst replace client-go's client-side limit (5/s, burst 10) when
// the config sets none. One sidecar serves one workflow, whose Argo calls
// come in bursts (a ParallelFor's iterations, each maybe creating a PVC):
// at 5/s a burst queued for seconds in the client while the API server,
// which protects itself with priority and fairness, sat idle.
const (
	QPS   = 50
	Burst = 100
)

// Client implements Interface over a REST client for core/v1.
type Client struct {
	rest rest.Interface
}

var _ Interface = (*Client)(nil)

// NewForConfig returns a client for the cluster cfg points at. cfg is not
// modified.
func NewForConfig(cfg *rest.Config) (*Client, error) {
	scheme := runtime.NewScheme()
	// Only core/v1 (with meta/v1's Status and options types, which
	// AddToScheme registers too): this is the whole point of the package.
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("kubernetes client: core/v1 scheme: %w", err)
	}
	// TokenRequest, the body of serviceaccounts/token (a core/v1
	// subresource of another group's kind).
	scheme.AddKnownTypes(authnv1.SchemeGroupVersion, &authnv1.TokenRequest{})
	c := rest.CopyConfig(cfg)
	if c.QPS == 0 && c.RateLimiter == nil {
		c.QPS, c.Burst = QPS, Burst
	}
	c.APIPath = "/api"
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = UserAgent
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &Client{rest: rc}, nil
}

// GetConfigMap implements Interface.
func (c *Client) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	err := c.rest.Get().Namespace(namespace).Resource("configmaps").Name(name).Do(ctx).Into(cm)
	if err != nil {
		return nil, err
	}
	return cm, nil
}

// GetPVC implements Interface.
func (c *Client) GetPVC(ctx context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	pvc := &corev1.PersistentVolumeClaim{}
	err := c.rest.Get().Namespace(namespace).Resource("persistentvolumeclaims").Name(name).Do(ctx).Into(pvc)
	if err != nil {
		return nil, err
	}
	return pvc, nil
}

// CreatePVC implements Interface.
func (c *Client) CreatePVC(ctx context.Context, namespace string, pvc *corev1.PersistentVolumeClaim) (*corev1.PersistentVolumeClaim, error) {
	out := &corev1.PersistentVolumeClaim{}
	err := c.rest.Post().Namespace(namespace).Resource("persistentvolumeclaims").Body(pvc).Do(ctx).Into(out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePVC implements Interface. No body: the server's defaults (background
// propagation, no preconditions) are what the driver wants.
func (c *Client) DeletePVC(ctx context.Context, namespace, name string) error {
	return c.rest.Delete().Namespace(namespace).Resource("persistentvolumeclaims").Name(name).Do(ctx).Error()
}
