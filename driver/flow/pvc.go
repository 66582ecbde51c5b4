package flow

import (
	"context"
	"errors"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// The images KFP's compiler uses for tasks the driver does itself.
const (
	createPVCImage = "argostub/createpvc"
	deletePVCImage = "argostub/deletepvc"
)

func isPVCOp(req *driver.Request) bool {
	img := req.Container.GetImage()
	return img == createPVCImage || img == deletePVCImage
}

// pvcOp creates or deletes a PVC in the request namespace and records the
// task as finished: no executor pod follows. A repeated call finds the
// finished execution and does nothing; a repeated create of our own PVC
// (the name is derived from the execution) is not an error.
func (s *Service) pvcOp(ctx context.Context, t *containerTask) (*driver.Result, error) {
	req := t.req
	if s.deps.Kube == nil {
		return nil, fmt.Errorf("task %q: %s needs a Kubernetes client", req.TaskName, req.Container.GetImage())
	}
	params := t.input.GetInputs().GetParameterValues()
	outputs := map[string]*structpb.Value{}
	var name string
	var err error
	if req.Container.GetImage() == createPVCImage {
		if name, err = pvcName(params, uniqueID(t.name)); err != nil {
			return nil, fmt.Errorf("task %q: %w", req.TaskName, err)
		}
		outputs["name"] = structpb.NewStringValue(name)
		params["pvc_name"] = structpb.NewStringValue(name) // a generated name never hits the cache
	}
	if existing, err := t.sc.client.ExecutionByName(ctx, mlmd.ContainerExecutionType, t.name); err != nil || existing != nil {
		if err != nil {
			return nil, err
		}
		return pvcResult(req, existing, false), nil
	}
	if req.Container.GetImage() == createPVCImage {
		if err := s.decideCache(ctx, t); err != nil {
			return nil, err
		}
	}
	if t.cached == nil {
		if err := s.runPVCOp(ctx, req, params); err != nil {
			return nil, err
		}
	}
	return s.publishPVCOp(ctx, t, outputs)
}

func (s *Service) runPVCOp(ctx context.Context, req *driver.Request, params map[string]*structpb.Value) error {
	pvcs := s.deps.Kube.CoreV1().PersistentVolumeClaims(req.Namespace)
	if req.Container.GetImage() == deletePVCImage {
		name := params["pvc_name"].GetStringValue()
		if name == "" {
			return fmt.Errorf("task %q: input \"pvc_name\": required to delete a PVC", req.TaskName)
		}
		if _, err := pvcs.Get(ctx, name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("task %q: PVC %s/%s: %w", req.TaskName, req.Namespace, name, err)
		}
		if err := pvcs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("task %q: deleting PVC %s/%s: %w", req.TaskName, req.Namespace, name, err)
		}
		return nil
	}
	pvc, err := pvcObject(params)
	if err != nil {
		return fmt.Errorf("task %q: %w", req.TaskName, err)
	}
	if _, err := pvcs.Create(ctx, pvc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("task %q: creating PVC %s/%s: %w", req.TaskName, req.Namespace, pvc.Name, err)
	}
	return nil
}

// publishPVCOp writes the finished execution (COMPLETE, or CACHED with the
// cached outputs) in one PutExecution and records the cache entry.
func (s *Service) publishPVCOp(ctx context.Context, t *containerTask, outputs map[string]*structpb.Value) (*driver.Result, error) {
	state := pb.Execution_COMPLETE
	hit := t.cached
	if hit != nil {
		state = pb.Execution_CACHED
	} else {
		hit = &cacheHit{outputs: outputs}
	}
	exec, created, err := t.write(ctx, state, hit)
	if err == nil {
		err = t.sc.settle(ctx, created, t.req.DAGExecutionID)
	}
	if err == nil && created && t.cached == nil && t.fp != "" {
		err = s.recordCache(ctx, t.req, exec.ID(), t.fp)
	}
	if err != nil {
		return nil, err
	}
	return pvcResult(t.req, exec, created), nil
}

func (s *Service) recordCache(ctx context.Context, req *driver.Request, execID int64, fp string) error {
	c, err := s.deps.Cache(req.Options)
	if err != nil {
		return err
	}
	rec, ok := c.(interface {
		Record(context.Context, cache.Entry) error
	})
	if !ok {
		return nil
	}
	now := s.deps.Now()
	return rec.Record(ctx, cache.Entry{Namespace: req.Namespace, PipelineName: req.PipelineName, RunID: req.RunID,
		ExecutionID: execID, Fingerprint: fp, StartedAt: now, FinishedAt: now})
}

func pvcResult(req *driver.Request, exec *mlmd.Execution, created bool) *driver.Result {
	verb := "created"
	if req.Container.GetImage() == deletePVCImage {
		verb = "deleted"
	}
	msg := fmt.Sprintf("%s: PVC %s %s (execution %d)", req.TaskName, exec.Outputs()["name"].GetStringValue(), verb, exec.ID())
	if id := exec.String(mlmd.PropCachedExecutionID); id != "" {
		msg = fmt.Sprintf("%s: cache hit (execution %s), recorded as execution %d", req.TaskName, id, exec.ID())
	}
	return &driver.Result{ExecutionID: exec.ID(), Message: again(msg, created)}
}

// pvcName is pvc_name, or a generated <uuid><pvc_name_suffix>.
func pvcName(params map[string]*structpb.Value, unique string) (string, error) {
	name, suffix := params["pvc_name"].GetStringValue(), params["pvc_name_suffix"].GetStringValue()
	switch {
	case name != "" && suffix != "":
		return "", errors.New("inputs \"pvc_name\" and \"pvc_name_suffix\": give at most one")
	case name != "":
		return name, nil
	}
	return unique + suffix, nil
}

func pvcObject(params map[string]*structpb.Value) (*corev1.PersistentVolumeClaim, error) {
	size, err := resource.ParseQuantity(params["size"].GetStringValue())
	if err != nil {
		return nil, fmt.Errorf("input \"size\": %w", err)
	}
	modes := params["access_modes"].GetListValue().GetValues()
	if len(modes) == 0 {
		return nil, errors.New("input \"access_modes\": required, a list")
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: params["pvc_name"].GetStringValue(), Annotations: stringMap(params["annotations"])},
		Spec: corev1.PersistentVolumeClaimSpec{
			Resources:  corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			VolumeName: params["volume_name"].GetStringValue(),
		},
	}
	for _, m := range modes {
		pvc.Spec.AccessModes = append(pvc.Spec.AccessModes, corev1.PersistentVolumeAccessMode(m.GetStringValue()))
	}
	class := "standard"
	if v, ok := params["storage_class_name"]; ok {
		class = v.GetStringValue()
	}
	pvc.Spec.StorageClassName = &class
	if ds := params["data_source"].GetStructValue().GetFields(); ds != nil {
		pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: ds["kind"].GetStringValue(), Name: ds["name"].GetStringValue()}
		if g := ds["apiGroup"].GetStringValue(); g != "" {
			pvc.Spec.DataSource.APIGroup = &g
		}
	}
	return pvc, nil
}

func stringMap(v *structpb.Value) map[string]string {
	fields := v.GetStructValue().GetFields()
	if len(fields) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, f := range fields {
		out[k] = f.GetStringValue()
	}
	return out
}
