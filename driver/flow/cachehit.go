package flow

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// cacheHit is an earlier execution whose outputs this task reuses.
type cacheHit struct {
	execID    int64
	outputs   map[string]*structpb.Value
	artifacts []mlmd.ArtifactRef
}

// decideCache computes the fingerprint when caching applies and looks it
// up. A hit whose execution lacks one of this task's outputs is treated as
// a miss (KFP fails the task instead): running again is always correct.
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
	c, err := s.deps.Cache()
	if err != nil {
		return err
	}
	id, hit, err := c.Lookup(ctx, req.Namespace, req.PipelineName, fp)
	if err != nil || !hit {
		return err
	}
	execID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil // an entry we cannot use is a miss
	}
	t.cached, err = loadHit(ctx, t, execID)
	return err
}

func loadHit(ctx context.Context, t *containerTask, execID int64) (*cacheHit, error) {
	execs, err := t.sc.client.ExecutionsByID(ctx, execID)
	if err != nil || len(execs) == 0 {
		return nil, err
	}
	refs, err := t.sc.client.OutputRefs(ctx, execID)
	if err != nil {
		return nil, err
	}
	hit := &cacheHit{execID: execID, outputs: execs[0].Outputs()}
	if hit.outputs == nil {
		hit.outputs = map[string]*structpb.Value{}
	}
	for name := range t.input.GetOutputs().GetArtifacts() {
		n := len(hit.artifacts)
		for _, ref := range refs {
			if ref.Key == name {
				hit.artifacts = append(hit.artifacts, ref)
			}
		}
		if len(hit.artifacts) == n && name != executor.LogsArtifact {
			return nil, nil
		}
	}
	for name := range t.input.GetOutputs().GetParameters() {
		if _, ok := hit.outputs[name]; !ok {
			return nil, nil
		}
	}
	return hit, nil
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
