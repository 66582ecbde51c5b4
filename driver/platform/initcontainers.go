package platform

import (
	"maps"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// reservedContainerNames are taken in every executor pod: the patch is a
// strategic merge keyed by container name, so a user init container with
// one of these names would be merged into KFP's launcher copier or Argo's
// own containers instead of being added.
var reservedContainerNames = map[string]string{
	"kfp-launcher": "KFP's launcher init container",
	"main":         "the task's container",
	"init":         "Argo's init container",
	"wait":         "Argo's wait container",
}

// applyInitContainers appends the user's init containers (or native
// sidecars, restartPolicy Always), validated and hardened.
func (a *applier) applyInitContainers(c *execConfig) error {
	for i, ic := range c.InitContainers {
		field := at("initContainers", i)
		ctr, err := a.initContainer(field, ic)
		if err != nil {
			return err
		}
		a.spec.InitContainers = append(a.spec.InitContainers, ctr)
	}
	a.sum.addCount(len(c.InitContainers), "init container", "init containers", "")
	return nil
}

func (a *applier) initContainer(field string, ic initContainer) (corev1.Container, error) {
	if err := a.checkContainerName(field+".name", ic.Name); err != nil {
		return corev1.Container{}, err
	}
	if ic.Image == "" {
		return corev1.Container{}, fieldErr(field+".image", "is required")
	}
	ctr := corev1.Container{
		Name: ic.Name, Image: ic.Image, Command: ic.Command, Args: ic.Args,
		SecurityContext: a.hardened(),
	}
	var err error
	if ctr.RestartPolicy, err = restartPolicy(field+".restartPolicy", ic.RestartPolicy); err != nil {
		return ctr, err
	}
	if ctr.Env, err = initEnv(field+".env", ic.Env); err != nil {
		return ctr, err
	}
	if ctr.VolumeMounts, err = a.initMounts(field+".volumeMounts", ic.VolumeMounts); err != nil {
		return ctr, err
	}
	if ic.Resources != nil {
		if ctr.Resources.Requests, err = resourceList(field+".resources.requests", ic.Resources.Requests); err != nil {
			return ctr, err
		}
		if ctr.Resources.Limits, err = resourceList(field+".resources.limits", ic.Resources.Limits); err != nil {
			return ctr, err
		}
	}
	return ctr, nil
}

// checkContainerName requires a DNS-1123 label that no container of the
// patch (nor a reserved one) uses yet.
func (a *applier) checkContainerName(field, name string) error {
	if name == "" {
		return fieldErr(field, "is required")
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fieldErr(field, "%q: %s", name, strings.Join(errs, "; "))
	}
	if what, ok := reservedContainerNames[name]; ok {
		return fieldErr(field, "%q is reserved for %s", name, what)
	}
	for _, list := range [][]corev1.Container{a.spec.Containers, a.spec.InitContainers} {
		for _, c := range list {
			if c.Name == name {
				return fieldErr(field, "%q is already used by another container", name)
			}
		}
	}
	return nil
}

func restartPolicy(field string, p *string) (*corev1.ContainerRestartPolicy, error) {
	if p == nil || *p == "" {
		return nil, nil
	}
	if *p != string(corev1.ContainerRestartPolicyAlways) {
		return nil, fieldErr(field, "unsupported value %q: only Always (a native sidecar) is allowed", *p)
	}
	return ptr(corev1.ContainerRestartPolicyAlways), nil
}

func initEnv(field string, env []initEnvVar) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	for i, e := range env {
		if e.Name == "" {
			return nil, fieldErr(at(field, i)+".name", "is required")
		}
		out = append(out, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	return out, nil
}

// initMounts checks the mounts; as the proto says, the volumes must come
// from this config (applied before init containers), i.e. be in the patch.
func (a *applier) initMounts(field string, mounts []initVolumeMount) ([]corev1.VolumeMount, error) {
	var out []corev1.VolumeMount
	seen := map[string]bool{}
	for i, m := range mounts {
		mf := at(field, i)
		if m.VolumeName == "" {
			return nil, fieldErr(mf+".volumeName", "is required")
		}
		if !a.hasVolume(m.VolumeName) {
			return nil, fieldErr(mf+".volumeName", "no volume %q is defined by this config", m.VolumeName)
		}
		if !path.IsAbs(m.MountPath) {
			return nil, fieldErr(mf+".mountPath", "%q must be an absolute path", m.MountPath)
		}
		if seen[m.MountPath] {
			return nil, fieldErr(mf+".mountPath", "%s is mounted twice", m.MountPath)
		}
		seen[m.MountPath] = true
		out = append(out, corev1.VolumeMount{Name: m.VolumeName, MountPath: m.MountPath})
	}
	return out, nil
}

func resourceList(field string, in map[string]string) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for _, name := range slices.Sorted(maps.Keys(in)) {
		if errs := validation.IsQualifiedName(name); len(errs) > 0 {
			return nil, fieldErr(field, "resource name %q: %s", name, strings.Join(errs, "; "))
		}
		q, err := parseQuantity(field+"["+name+"]", in[name])
		if err != nil {
			return nil, err
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}

func (a *applier) hasVolume(name string) bool {
	for _, v := range a.spec.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}
