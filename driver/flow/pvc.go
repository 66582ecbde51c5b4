package flow

import (
	"context"
	"errors"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

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
		return pvcResult(req, existing, "", false), nil
	}
	if req.Container.GetImage() == createPVCImage {
		if err := s.decideCache(ctx, t); err != nil {
			return nil, err
		}
	}
	var done string
	if t.cached == nil {
		if done, err = s.runPVCOp(ctx, req, params); err != nil {
			return nil, err
		}
	}
	return s.publishPVCOp(ctx, t, outputs, done)
}

// publishPVCOp writes the finished execution (COMPLETE, or CACHED with the
// cached outputs) in one PutExecution and records the cache entry.
func (s *Service) publishPVCOp(ctx context.Context, t *containerTask, outputs map[string]*structpb.Value, done string) (*driver.Result, error) {
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
	return pvcResult(t.req, exec, done, created), nil
}

func (s *Service) recordCache(ctx context.Context, req *driver.Request, execID int64, fp string) error {
	c, err := s.deps.Cache()
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

// pvcResult replies for a finished PVC op. done says what the Kubernetes
// call found ("" on a repeated call, which made none).
func pvcResult(req *driver.Request, exec *mlmd.Execution, done string, created bool) *driver.Result {
	if done == "" {
		done = "created"
		if req.Container.GetImage() == deletePVCImage {
			done = "deleted"
		}
	}
	name := exec.Inputs()["pvc_name"].GetStringValue()
	msg := fmt.Sprintf("%s: PVC %s %s (execution %d)", req.TaskName, name, done, exec.ID())
	if id := exec.String(mlmd.PropCachedExecutionID); id != "" {
		msg = fmt.Sprintf("%s: cache hit (execution %s), recorded as execution %d", req.TaskName, id, exec.ID())
	}
	return &driver.Result{ExecutionID: exec.ID(), Message: again(msg, created), LogURI: exec.String(mlmd.PropDriverLogsURI)}
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
