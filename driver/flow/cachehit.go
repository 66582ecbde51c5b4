package flow

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
)

// decideCache computes the fingerprint when caching applies and looks it
// up. A hit whose step lacks one of this task's outputs is treated as a
// miss (KFP fails the task instead): running again is always correct.
func (s *Service) decideCache(ctx context.Context, t *containerTask) error {
	req := t.req
	if !cache.ShouldLookup(req.Options.CacheDisabled, true, req.Task.GetCachingOptions().GetEnableCache()) {
		return nil
	}
	fp, err := cache.Fingerprint(cache.KeyInput{
		Inputs: t.input.GetInputs(), Outputs: t.input.GetOutputs(),
		Component: req.Component, Container: req.Container, PVCNames: pvcNames(t.spec),
		ComponentName: req.Task.GetComponentRef().GetName(),
	})
	if err != nil {
		return fmt.Errorf("task %q: cache fingerprint: %w", req.TaskName, err)
	}
	t.fp = fp
	t.cached, err = t.sc.call.CacheHit(ctx, fp, t.input.GetOutputs())
	return err
}

// pvcNames are the PVCs the pod mounts; they are part of the fingerprint.
func pvcNames(spec *corev1.PodSpec) []string {
	var names []string
	if spec == nil {
		return nil
	}
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			names = append(names, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return names
}
