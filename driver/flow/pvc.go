package flow

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
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
// finished record and does nothing; a repeated create of our own PVC (the
// name is derived from the record's name) is not an error.
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
		if name, err = pvcName(params, record.UniqueID(t.name)); err != nil {
			return nil, fmt.Errorf("task %q: %w", req.TaskName, err)
		}
		outputs["name"] = structpb.NewStringValue(name)
		params["pvc_name"] = structpb.NewStringValue(name) // a generated name never hits the cache
	}
	if existing, err := t.sc.call.Existing(ctx); err != nil || existing != nil {
		if err != nil {
			return nil, err
		}
		return pvcResult(req, existing, ""), nil
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

// publishPVCOp writes the finished record (succeeded, or cached with the
// cached outputs) and makes it findable by later cache lookups.
func (s *Service) publishPVCOp(ctx context.Context, t *containerTask, outputs map[string]*structpb.Value, done string) (*driver.Result, error) {
	status, out := record.Succeeded, t.cached
	if out != nil {
		status = record.Cached
	} else {
		out = &record.Outputs{Parameters: outputs}
	}
	w, err := t.write(ctx, status, out)
	if err == nil {
		err = t.sc.settle(ctx, w, t.sc.call.Parent().Ref())
	}
	if err == nil && w.Created && t.cached == nil && t.fp != "" {
		err = t.sc.call.Cached(ctx, w, t.fp)
	}
	if err != nil {
		return nil, err
	}
	return pvcResult(t.req, w, done), nil
}

// pvcResult replies for a finished PVC op. done says what the Kubernetes
// call found ("" on a repeated call, which made none).
func pvcResult(req *driver.Request, w *record.Written, done string) *driver.Result {
	if done == "" {
		done = "created"
		if req.Container.GetImage() == deletePVCImage {
			done = "deleted"
		}
	}
	name := w.Task.Inputs()["pvc_name"].GetStringValue()
	msg := fmt.Sprintf("%s: PVC %s %s (%s)", req.TaskName, name, done, w.Task.Label())
	if w.CachedFrom != "" {
		msg = fmt.Sprintf("%s: cache hit (%s), recorded as %s", req.TaskName, w.CachedFrom, w.Task.Label())
	}
	return withMessage(result(w), again(msg, w.Created))
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
