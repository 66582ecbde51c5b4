package platform

import (
	"errors"

	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
	corev1 "k8s.io/api/core/v1"
)

// MainContainer is the name of the user container in KFP's executor pod; the
// platform config applies to it only.
const MainContainer = "main"

// Options are the administrator's defaults for task pods (driver.Options'
// Default* fields). Nil means "not configured".
type Options struct {
	DefaultRunAsUser    *int64
	DefaultRunAsGroup   *int64
	DefaultRunAsNonRoot *bool
	DefaultHostUsers    *bool
}

// Apply adds the task's kfp-kubernetes config to spec, the pod spec patch
// the container driver built (it must hold a container named "main").
//
// The config is read from raw, the original protojson, when it is non-empty,
// because raw may carry fields newer than the generated cfg type; otherwise
// from cfg. Call Apply only when the task has a config (kubernetes_config is
// not ""), even an empty one: the admin defaults are applied from here, as
// in KFP. in resolves parameter references and may be nil when the config
// only holds constants.
//
// Apply is all or nothing: on error spec is left unchanged. The error is a
// *FieldError naming the offending field, possibly wrapping an error of in.
func Apply(spec *corev1.PodSpec, cfg *kubernetesplatform.KubernetesExecutorConfig, raw []byte, in Inputs, opts Options) (*Summary, error) {
	if spec == nil {
		return nil, errors.New("kubernetes_config: no pod spec to apply it to")
	}
	b, err := rawConfig(cfg, raw)
	if err != nil {
		return nil, err
	}
	c, err := decodeConfig(b)
	if err != nil {
		return nil, err
	}
	work := spec.DeepCopy()
	a, err := newApplier(work, in, opts)
	if err != nil {
		return nil, err
	}
	if err := a.apply(c); err != nil {
		return nil, err
	}
	*spec = *work
	return a.sum, nil
}

// applier carries the state shared by the per-feature functions.
type applier struct {
	spec *corev1.PodSpec
	main *corev1.Container
	in   Inputs
	opts Options
	sum  *Summary
}

func newApplier(spec *corev1.PodSpec, in Inputs, opts Options) (*applier, error) {
	for i := range spec.Containers {
		if spec.Containers[i].Name == MainContainer {
			return &applier{spec: spec, main: &spec.Containers[i], in: in, opts: opts, sum: &Summary{}}, nil
		}
	}
	return nil, errors.New("kubernetes_config: the pod spec has no container named " + MainContainer)
}

// apply runs the features in KFP's order (which fixes the order of env vars,
// volumes and mounts), then the ones KFP's driver does not apply.
func (a *applier) apply(c *execConfig) error {
	a.applyAdminDefaults()
	steps := []func(*execConfig) error{
		a.applyPVCMounts,
		a.applyImagePullPolicy,
		a.applyNodeSelector,
		a.applyTolerations,
		a.applySecretVolumes,
		a.applySecretEnv,
		a.applyConfigMapVolumes,
		a.applyConfigMapEnv,
		a.applyImagePullSecrets,
		a.applyFieldPathEnv,
		a.applyActiveDeadline,
		a.applyEphemeralVolumes,
		a.applyEmptyDirs,
		a.applyNodeAffinity,
		a.applySecurityContext,
		a.applyPodAffinity,
		a.applySharedMemory,
		a.applyInitContainers,
		a.applyPodMetadata,
	}
	for _, step := range steps {
		if err := step(c); err != nil {
			return err
		}
	}
	return nil
}
