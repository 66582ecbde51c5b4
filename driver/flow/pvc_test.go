package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// PVC op decisions on the in-memory fake (TestPVCOpsOnAPIServer runs the
// same on a real API server when the tools are there).
func TestPVCOpsOnFake(t *testing.T) {
	env := drivertest.NewEnv(t)
	walkPVC := func(runID string, create, del map[string]any) (*drivertest.Trace, error) {
		p, err := drivertest.Load(platformSpecDir + "/create_mount_delete_dynamic_pvc.yaml")
		if err != nil {
			t.Fatal(err)
		}
		setInputs(t, p, "createpvc", create)
		setInputs(t, p, "deletepvc", del)
		w := env.Walker(p, runID)
		w.Repeat = true
		return w.Run(context.Background(), p)
	}
	named := map[string]any{"pvc_name": "data", "pvc_name_suffix": nil, "data_source": nil}

	env.Kube.AddPVC(fakePVC("data", "2Gi"))
	_, err := walkPVC("conflict", named, nil)
	if err == nil || driver.IsTransient(err) || !strings.Contains(err.Error(), "already exists with a different spec: storage request is 2Gi, want 5Mi") {
		t.Errorf("conflict: %v", err)
	}

	env.Kube.AddPVC(fakePVC("data", "5Mi"))
	trace, err := walkPVC("same", named, map[string]any{"pvc_name": "gone-already"})
	if err != nil {
		t.Fatal(err)
	}
	if msg := only(t, trace, "createpvc").Result.Message; !strings.Contains(msg, "PVC data already exists with the requested spec") {
		t.Errorf("same spec: %q", msg)
	}
	if msg := only(t, trace, "deletepvc").Result.Message; !strings.Contains(msg, "PVC gone-already already absent") {
		t.Errorf("delete of a missing PVC: %q", msg)
	}

	for _, c := range []struct {
		err       error
		transient bool
	}{
		{apierrors.NewServiceUnavailable("etcd is slow"), true},
		{apierrors.NewTooManyRequests("slow down", 1), true},
		{apierrors.NewForbidden(corev1.Resource("persistentvolumeclaims"), "x", errors.New("no RBAC")), false},
	} {
		env.Kube.Err = func(verb, resource, _, _ string) error {
			if resource == "persistentvolumeclaims" {
				return c.err
			}
			return nil
		}
		_, err := walkPVC("fault-"+string(apierrors.ReasonForError(c.err)), nil, nil)
		if err == nil || driver.IsTransient(err) != c.transient || !strings.Contains(err.Error(), c.err.Error()) {
			t.Errorf("%v: got %v (transient %v), want transient=%v", c.err, err, driver.IsTransient(err), c.transient)
		}
	}
}

func fakePVC(name, size string) *corev1.PersistentVolumeClaim {
	class := "standard"
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: drivertest.Namespace},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
			StorageClassName: &class,
		},
	}
}
