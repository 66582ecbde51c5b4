package kubetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFakeContract(t *testing.T) {
	f := New()
	Contract(t, f, "ns", "data")
	want := []string{
		"get configmaps ns/data", "get persistentvolumeclaims ns/data", "create persistentvolumeclaims ns/data",
		"create persistentvolumeclaims ns/data", "get persistentvolumeclaims ns/data", "delete persistentvolumeclaims ns/data",
		"get persistentvolumeclaims ns/data", "delete persistentvolumeclaims ns/data-missing",
	}
	if got := f.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
}

func TestFakeObjects(t *testing.T) {
	ctx := context.Background()
	f := New(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"k": "v"}})
	cm, err := f.GetConfigMap(ctx, "ns", "cm")
	if err != nil || cm.Data["k"] != "v" || cm.UID == "" {
		t.Fatalf("GetConfigMap: %+v, %v", cm, err)
	}
	cm.Data["k"] = "changed" // callers get copies
	if again, _ := f.GetConfigMap(ctx, "ns", "cm"); again.Data["k"] != "v" {
		t.Error("a caller's change reached the store")
	}
	if _, err := f.GetConfigMap(ctx, "other", "cm"); !apierrors.IsNotFound(err) {
		t.Errorf("other namespace: %v", err)
	}
	pvc := ContractPVC("p")
	pvc.Namespace = "elsewhere"
	if _, err := f.CreatePVC(ctx, "ns", pvc); !apierrors.IsBadRequest(err) {
		t.Errorf("namespace mismatch: %v, want BadRequest", err)
	}
	f.AddPVC(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}})
	f.AddPVC(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}})
	if got := f.PVCs("ns"); len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("PVCs = %v", got)
	}
}

func TestFakeErr(t *testing.T) {
	boom := errors.New("boom")
	f := New()
	f.Err = func(verb, resource, namespace, name string) error {
		if verb == "create" {
			return boom
		}
		return nil
	}
	if _, err := f.CreatePVC(context.Background(), "ns", ContractPVC("p")); !errors.Is(err, boom) {
		t.Errorf("CreatePVC: %v, want the injected error", err)
	}
	if len(f.PVCs("ns")) != 0 {
		t.Error("a failed create stored the PVC")
	}
}
