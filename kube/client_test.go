package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube/kubetest"
)

// TestClientOnAPIServer runs the client against a real kube-apiserver: the
// same contract as the fake, a ConfigMap read, a forbidden call, and calls
// after the server stopped.
func TestClientOnAPIServer(t *testing.T) {
	c := testenv.StartCluster(t)
	ctx := context.Background()
	const ns = "kube-client"
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	k, err := kube.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("contract", func(t *testing.T) { kubetest.Contract(t, k, ns, "data") })
	t.Run("configmap", func(t *testing.T) {
		_, err := c.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "kfp-launcher"}, Data: map[string]string{"defaultPipelineRoot": "s3://b/r"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm, err := k.GetConfigMap(ctx, ns, "kfp-launcher")
		if err != nil || cm.Data["defaultPipelineRoot"] != "s3://b/r" || cm.Namespace != ns {
			t.Fatalf("GetConfigMap: %+v, %v", cm, err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		pvc := kubetest.ContractPVC("bad")
		pvc.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"WriteSometimes"}
		_, err := k.CreatePVC(ctx, ns, pvc)
		if !apierrors.IsInvalid(err) || kube.IsTransient(err) || !strings.Contains(err.Error(), "WriteSometimes") {
			t.Fatalf("invalid access mode: %v, want Invalid naming the value, not transient", err)
		}
	})
	t.Run("forbidden", func(t *testing.T) {
		cfg := rest.CopyConfig(c.RESTConfig)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":nobody"}
		nobody, err := kube.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = nobody.GetPVC(ctx, ns, "data")
		if !apierrors.IsForbidden(err) || kube.IsTransient(err) {
			t.Fatalf("GetPVC without RBAC: %v, want Forbidden, not transient", err)
		}
	})
	t.Run("token", func(t *testing.T) {
		if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "runner"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		tok, err := k.CreateToken(ctx, ns, "runner", "pipelines.kubeflow.org/runs/x", 2*time.Hour)
		if err != nil || tok.Value == "" || tok.Expiry.Before(before.Add(2*time.Hour-time.Minute)) || tok.Expiry.After(time.Now().Add(2*time.Hour+time.Minute)) {
			t.Fatalf("CreateToken: %+v, %v; want a token expiring in 2h", tok, err)
		}
		_, err = k.CreateToken(ctx, ns, "absent", "a", time.Hour)
		if !apierrors.IsNotFound(err) || kube.IsTransient(err) || !strings.Contains(err.Error(), "service account "+ns+"/absent") {
			t.Fatalf("CreateToken for a missing account: %v, want NotFound naming it, not transient", err)
		}
		_, err = k.CreateToken(ctx, ns, "runner", "a", time.Minute) // under the API server's 10 min minimum
		if !apierrors.IsBadRequest(err) && !apierrors.IsInvalid(err) {
			t.Fatalf("CreateToken for 1 min: %v, want refused", err)
		}
	})
	t.Run("server stopped", func(t *testing.T) {
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		_, err := k.GetPVC(ctx, ns, "data")
		if err == nil || !kube.IsTransient(err) {
			t.Fatalf("GetPVC on a stopped server: %v, want a transient error", err)
		}
		if _, err := k.CreateToken(ctx, ns, "runner", "a", time.Hour); !kube.IsTransient(err) {
			t.Fatalf("CreateToken on a stopped server: %v, want a transient error", err)
		}
		if err := k.DeletePVC(ctx, ns, "data"); !kube.IsTransient(err) {
			t.Fatalf("DeletePVC on a stopped server: %v, want a transient error", err)
		}
	})
}
