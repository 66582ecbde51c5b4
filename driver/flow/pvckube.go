package flow

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// runPVCOp makes the Kubernetes call of a PVC op and says what it found.
// Both ops are idempotent, as Argo may repeat a call whose reply it lost:
// a PVC that exists with the requested spec counts as created, a missing
// one as deleted.
func (s *Service) runPVCOp(ctx context.Context, req *driver.Request, params map[string]*structpb.Value) (string, error) {
	if req.Container.GetImage() == deletePVCImage {
		return s.deletePVC(ctx, req, params["pvc_name"].GetStringValue())
	}
	pvc, err := pvcObject(params)
	if err != nil {
		return "", fmt.Errorf("task %q: %w", req.TaskName, err)
	}
	return s.createPVC(ctx, req, pvc)
}

func (s *Service) deletePVC(ctx context.Context, req *driver.Request, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("task %q: input \"pvc_name\": required to delete a PVC", req.TaskName)
	}
	err := s.deps.Kube.DeletePVC(ctx, req.Namespace, name)
	switch {
	case apierrors.IsNotFound(err):
		return "already absent, nothing deleted", nil
	case err != nil:
		return "", fmt.Errorf("task %q: deleting PVC %s/%s: %w", req.TaskName, req.Namespace, name, err)
	}
	return "deleted", nil
}

func (s *Service) createPVC(ctx context.Context, req *driver.Request, pvc *corev1.PersistentVolumeClaim) (string, error) {
	_, err := s.deps.Kube.CreatePVC(ctx, req.Namespace, pvc)
	switch {
	case err == nil:
		return "created", nil
	case !apierrors.IsAlreadyExists(err):
		return "", fmt.Errorf("task %q: creating PVC %s/%s: %w", req.TaskName, req.Namespace, pvc.Name, err)
	}
	return s.existingPVC(ctx, req, pvc)
}

// existingPVC accepts a PVC of the requested name only if it is what the
// task asks for; using someone else's volume would be silent data mixing.
func (s *Service) existingPVC(ctx context.Context, req *driver.Request, want *corev1.PersistentVolumeClaim) (string, error) {
	where := fmt.Sprintf("task %q: PVC %s/%s", req.TaskName, req.Namespace, want.Name)
	got, err := s.deps.Kube.GetPVC(ctx, req.Namespace, want.Name)
	switch {
	case apierrors.IsNotFound(err): // deleted since our create: the next call creates it
		return "", driver.Transient(fmt.Errorf("%s: exists, then vanished: %w", where, err))
	case err != nil:
		return "", fmt.Errorf("%s: exists, reading it: %w", where, err)
	case got.DeletionTimestamp != nil: // e.g. the previous run's deletepvc, pods still finishing
		return "", driver.Transient(fmt.Errorf("%s: exists and is being deleted; waiting until it is gone", where))
	}
	if diff := pvcDiff(want, got); len(diff) > 0 {
		return "", fmt.Errorf("%s: already exists with a different spec: %s", where, strings.Join(diff, "; "))
	}
	return "already exists with the requested spec", nil
}
