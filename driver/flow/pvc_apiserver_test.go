package flow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// The createpvc/deletepvc tasks of KFP's create_mount_delete_dynamic_pvc
// snapshot spec (createpvc -> producer, consumer mount it -> deletepvc), run
// through the driver against a real kube-apiserver, every call twice.
// Inputs are varied the way the KFP SDK compiles CreatePVC arguments.
func TestPVCOpsOnAPIServer(t *testing.T) {
	e := startAPIEnv(t, "kfp-pvc-ops")
	t.Run("generated name with suffix, data source, storage class", func(t *testing.T) {
		pvcGeneratedName(t, e)
	})
	t.Run("requested name, annotations, volume name, default storage class", func(t *testing.T) {
		pvcRequestedName(t, e)
	})
	t.Run("several access modes, empty storage class", func(t *testing.T) {
		p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
		setInputs(t, p, "createpvc", map[string]any{"pvc_name": "kfp-static", "pvc_name_suffix": nil,
			"access_modes": []any{"ReadWriteMany", "ReadOnlyMany"}, "storage_class_name": "", "data_source": nil})
		e.walkPVC(t, p, "static")
		got := e.pvc(t, "kfp-static")
		if *got.Spec.StorageClassName != "" || len(got.Spec.AccessModes) != 2 || got.Spec.AccessModes[1] != corev1.ReadOnlyMany {
			t.Errorf("class %q, modes %v", *got.Spec.StorageClassName, got.Spec.AccessModes)
		}
	})
	t.Run("existing PVC with the same spec", func(t *testing.T) { pvcExistingSame(t, e) })
	t.Run("existing PVC with a different spec", func(t *testing.T) { pvcConflict(t, e) })
	t.Run("existing PVC being deleted", func(t *testing.T) {
		// Terminating for good here: no controller removes pvc-protection.
		e.createPVC(t, "kfp-terminating", "5Mi", "standard", corev1.ReadWriteOnce)
		if err := e.cluster.Client.CoreV1().PersistentVolumeClaims(e.namespace).Delete(context.Background(), "kfp-terminating", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
		setInputs(t, p, "createpvc", map[string]any{"pvc_name": "kfp-terminating", "pvc_name_suffix": nil, "data_source": nil})
		trace, err := e.walker(p, "terminating").Run(context.Background(), p)
		if !driver.IsTransient(err) || !strings.Contains(err.Error(), "is being deleted; waiting until it is gone") {
			t.Fatalf("walk: %v, want a transient error (retry once the old PVC is gone)", err)
		}
		e.noExecution(t, trace, "terminating", "createpvc")
	})
	t.Run("delete of a missing PVC", func(t *testing.T) {
		p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
		setInputs(t, p, "deletepvc", map[string]any{"pvc_name": "kfp-never-created"})
		trace := e.walkPVC(t, p, "missing")
		del := only(t, trace, "deletepvc").Result
		if !strings.Contains(del.Message, "PVC kfp-never-created already absent, nothing deleted") {
			t.Errorf("deletepvc message %q", del.Message)
		}
		e.completed(t, trace, "missing", "deletepvc")
	})
	t.Run("invalid request", func(t *testing.T) {
		p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
		setInputs(t, p, "createpvc", map[string]any{"access_modes": []any{"WriteSometimes"}})
		err := e.failPVC(t, p, "invalid")
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `Unsupported value: "WriteSometimes"`) {
			t.Errorf("error %v, want the API server's Invalid naming the access mode", err)
		}
	})
	t.Run("forbidden", func(t *testing.T) { pvcForbidden(t, e) })
	t.Run("API server down", func(t *testing.T) { pvcServerDown(t, e) }) // last: stops the cluster
}

func pvcGeneratedName(t *testing.T, e *apiEnv) {
	trace := e.walkPVC(t, platformSpec(t, "create_mount_delete_dynamic_pvc.yaml"), "generated")
	create := only(t, trace, "createpvc").Result
	exec := e.completed(t, trace, "generated", "createpvc")
	name := exec.Outputs()["name"].GetStringValue()
	if !strings.HasSuffix(name, "-my-pvc") || len(name) != 36+len("-my-pvc") || exec.Inputs()["pvc_name"].GetStringValue() != name {
		t.Fatalf("generated name %q (inputs %v), want <uuid>-my-pvc", name, exec.Inputs())
	}
	if create.PodSpecPatch != "" || create.Message != fmt.Sprintf("createpvc: PVC %s created (execution %d)", name, create.ExecutionID) {
		t.Errorf("createpvc result: %q, patch %q", create.Message, create.PodSpecPatch)
	}
	got := e.pvc(t, name)
	e.checkSpec(t, got, "5Mi", "standard", corev1.ReadWriteOnce)
	ds := got.Spec.DataSource
	if ds == nil || ds.Kind != "VolumeSnapshot" || ds.Name != "my-snap" || ds.APIGroup == nil || *ds.APIGroup != "snapshot.storage.k8s.io" {
		t.Errorf("data source %+v", ds)
	}
	for _, task := range []string{"producer", "consumer"} {
		if msg := only(t, trace, task).Result.Message; !strings.Contains(msg, `mounted pvc "`+name+`" at /data`) {
			t.Errorf("%s message %q does not name the mounted PVC", task, msg)
		}
	}
	// deletepvc ran last. No controller-manager runs here to remove the
	// pvc-protection finalizer, so the PVC stays, marked for deletion.
	if got.DeletionTimestamp == nil {
		t.Errorf("PVC %s not deleted by deletepvc", name)
	}
	del := only(t, trace, "deletepvc").Result
	e.completed(t, trace, "generated", "deletepvc")
	if !strings.Contains(del.Message, "PVC "+name+" deleted") {
		t.Errorf("deletepvc message %q", del.Message)
	}
}

func pvcRequestedName(t *testing.T, e *apiEnv) {
	p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
	setInputs(t, p, "createpvc", map[string]any{
		"pvc_name": "kfp-requested", "pvc_name_suffix": nil, "storage_class_name": nil, "data_source": nil,
		"annotations": map[string]any{"team": "ml", "example.com/owner": "alice"}, "volume_name": "pv-kfp-1",
	})
	trace := e.walkPVC(t, p, "requested")
	exec := e.completed(t, trace, "requested", "createpvc")
	if exec.Outputs()["name"].GetStringValue() != "kfp-requested" {
		t.Errorf("outputs %v", exec.Outputs())
	}
	got := e.pvc(t, "kfp-requested")
	e.checkSpec(t, got, "5Mi", "standard", corev1.ReadWriteOnce) // KFP's default class
	if got.Annotations["team"] != "ml" || got.Annotations["example.com/owner"] != "alice" {
		t.Errorf("annotations %v", got.Annotations)
	}
	if got.Spec.VolumeName != "pv-kfp-1" || got.Spec.DataSource != nil {
		t.Errorf("volumeName %q, dataSource %+v", got.Spec.VolumeName, got.Spec.DataSource)
	}
}

// An Argo retry after a lost reply finds the PVC its first attempt made.
func pvcExistingSame(t *testing.T, e *apiEnv) {
	class := "standard"
	before := e.createPVC(t, "kfp-retried", "5Mi", class, corev1.ReadWriteOnce)
	p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
	setInputs(t, p, "createpvc", map[string]any{"pvc_name": "kfp-retried", "pvc_name_suffix": nil, "data_source": nil})
	trace := e.walkPVC(t, p, "same")
	create := only(t, trace, "createpvc").Result
	if !strings.Contains(create.Message, "PVC kfp-retried already exists with the requested spec") {
		t.Errorf("createpvc message %q", create.Message)
	}
	e.completed(t, trace, "same", "createpvc")
	if got := e.pvc(t, "kfp-retried"); got.UID != before.UID {
		t.Errorf("PVC replaced: uid %s, was %s", got.UID, before.UID)
	}
}

func pvcConflict(t *testing.T, e *apiEnv) {
	before := e.createPVC(t, "kfp-conflict", "1Gi", "fast", corev1.ReadWriteMany)
	p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
	setInputs(t, p, "createpvc", map[string]any{"pvc_name": "kfp-conflict", "pvc_name_suffix": nil, "data_source": nil})
	err := e.failPVC(t, p, "conflict")
	const want = `task "createpvc": PVC kfp-pvc-ops/kfp-conflict: already exists with a different spec: ` +
		`accessModes is [ReadWriteMany], want [ReadWriteOnce]; storage request is 1Gi, want 5Mi; storageClassName is "fast", want "standard"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error\n %v\nwant it to contain\n %s", err, want)
	}
	if got := e.pvc(t, "kfp-conflict"); got.ResourceVersion != before.ResourceVersion {
		t.Errorf("the conflicting PVC was changed: %+v", got)
	}
}

// The driver's service account may read the kfp-launcher ConfigMap but has
// no rights on PVCs: the task fails with the API server's reason.
func pvcForbidden(t *testing.T, e *apiEnv) {
	const sa = "kfp-driver-without-pvc-rights"
	env := e.impersonating(t, sa)
	p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
	err := env.failPVC(t, p, "forbidden")
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `cannot create resource "persistentvolumeclaims"`) {
		t.Errorf("error %v, want Forbidden for creating persistentvolumeclaims", err)
	}
}

func pvcServerDown(t *testing.T, e *apiEnv) {
	p := platformSpec(t, "create_mount_delete_dynamic_pvc.yaml")
	w := e.walker(p, "down")
	w.Driver = driver.Func(func(ctx context.Context, req *driver.Request) (*driver.Result, error) {
		if req.TaskName == "createpvc" {
			if err := e.cluster.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		return e.Service.Run(ctx, req)
	})
	trace, err := w.Run(context.Background(), p)
	if err == nil || !driver.IsTransient(err) || !strings.Contains(err.Error(), "creating PVC") {
		t.Fatalf("createpvc with the API server down: %v, want a transient error", err)
	}
	e.noExecution(t, trace, "down", "createpvc")
}

// walkPVC walks p (its own run) and fails the test on an error.
func (e *apiEnv) walkPVC(t *testing.T, p *drivertest.Pipeline, runID string) *drivertest.Trace {
	t.Helper()
	trace, err := e.walker(p, runID).Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return trace
}

// failPVC walks p and returns the createpvc error: not transient, and
// nothing recorded in MLMD for the task, so that a retry starts clean.
func (e *apiEnv) failPVC(t *testing.T, p *drivertest.Pipeline, runID string) error {
	t.Helper()
	trace, err := e.walker(p, runID).Run(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "CONTAINER root/createpvc") {
		t.Fatalf("walk: %v, want createpvc to fail", err)
	}
	if driver.IsTransient(err) {
		t.Errorf("error %v is transient", err)
	}
	e.noExecution(t, trace, runID, "createpvc")
	return err
}

// completed checks the MLMD record of a PVC op as KFP's driver writes it: a
// system.ContainerExecution of the task, COMPLETE, child of the root DAG,
// in the run's context.
func (e *apiEnv) completed(t *testing.T, trace *drivertest.Trace, runID, task string) *mlmd.Execution {
	t.Helper()
	ctx := context.Background()
	id := only(t, trace, task).Result.ExecutionID
	exec, err := e.MLMD.ExecutionByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if exec.TypeName != mlmd.ContainerExecutionType || exec.State() != pb.Execution_COMPLETE ||
		exec.TaskName() != task || exec.ParentDAGID() != trace.RootID {
		t.Fatalf("%s execution: type %s, state %v, task %q, parent %d (root %d)",
			task, exec.TypeName, exec.State(), exec.TaskName(), exec.ParentDAGID(), trace.RootID)
	}
	run, err := e.MLMD.RunOf(ctx, "my-pipeline", runID, trace.RootID)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := e.MLMD.Children(ctx, run, trace.RootID, task)
	if err != nil || len(kids) != 1 || kids[0].ID() != id {
		t.Fatalf("%s not in the run context under the root: %v, %v", task, kids, err)
	}
	return exec
}

// noExecution: a failed call records nothing, so that a retry starts clean.
func (e *apiEnv) noExecution(t *testing.T, trace *drivertest.Trace, runID, task string) {
	t.Helper()
	if trace.RootID == 0 {
		t.Fatal("the walk failed before the root DAG")
	}
	name := mlmd.ExecutionName(runID, trace.RootID, task, -1)
	exec, err := e.MLMD.ExecutionByName(context.Background(), mlmd.ContainerExecutionType, name)
	if err != nil || exec != nil {
		t.Errorf("%s: execution %v recorded for a failed call (%v)", task, exec, err)
	}
}

func (e *apiEnv) pvc(t *testing.T, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	got, err := e.cluster.Client.CoreV1().PersistentVolumeClaims(e.namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (e *apiEnv) createPVC(t *testing.T, name, size, class string, mode corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{mode},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
			StorageClassName: &class,
		},
	}
	got, err := e.cluster.Client.CoreV1().PersistentVolumeClaims(e.namespace).Create(context.Background(), pvc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (e *apiEnv) checkSpec(t *testing.T, got *corev1.PersistentVolumeClaim, size, class string, modes ...corev1.PersistentVolumeAccessMode) {
	t.Helper()
	q := got.Spec.Resources.Requests[corev1.ResourceStorage]
	if q.String() != size || got.Spec.StorageClassName == nil || *got.Spec.StorageClassName != class {
		t.Errorf("PVC %s: size %s, class %v; want %s, %q", got.Name, q.String(), got.Spec.StorageClassName, size, class)
	}
	if len(got.Spec.AccessModes) != len(modes) || got.Spec.AccessModes[0] != modes[0] {
		t.Errorf("PVC %s: access modes %v, want %v", got.Name, got.Spec.AccessModes, modes)
	}
}

// impersonating is a driver on the same cluster whose Kubernetes identity
// is service account sa, allowed only to read ConfigMaps in the namespace.
func (e *apiEnv) impersonating(t *testing.T, sa string) *apiEnv {
	t.Helper()
	ctx := context.Background()
	rbac := e.cluster.Client.RbacV1()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	if _, err := rbac.Roles(e.namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: sa},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: e.namespace}}}
	if _, err := rbac.RoleBindings(e.namespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(e.cluster.RESTConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + e.namespace + ":" + sa}
	k, err := kube.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitForRBAC(t, k, e.namespace)
	return &apiEnv{Env: drivertest.NewEnvWith(t, k), cluster: e.cluster, namespace: e.namespace}
}

// waitForRBAC polls until the apiserver's RBAC cache has the new Role and
// RoleBinding: until then even the allowed ConfigMap read is forbidden.
func waitForRBAC(t *testing.T, k kube.Interface, namespace string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := k.GetConfigMap(context.Background(), namespace, "kfp-launcher")
		if err == nil || !apierrors.IsForbidden(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Role never took effect: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
