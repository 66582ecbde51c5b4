package platform

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Merge rules with what the container driver already put in the patch. KFP
// appends blindly, so two entries for the same PVC, or a secret and a config
// map of the same name, give a pod the API server rejects after the driver
// reported success. Here an identical volume or mount is reused, and a
// conflicting one is an error naming the field.

// addVolume adds v unless the same volume is already there.
func (a *applier) addVolume(field string, v corev1.Volume) error {
	if err := checkVolumeName(field, v.Name); err != nil {
		return err
	}
	for _, have := range a.spec.Volumes {
		if have.Name != v.Name {
			continue
		}
		if equality.Semantic.DeepEqual(have.VolumeSource, v.VolumeSource) {
			return nil
		}
		return fieldErr(field, "volume %q is already defined in the pod with a different source", v.Name)
	}
	a.spec.Volumes = append(a.spec.Volumes, v)
	return nil
}

// addMount mounts a volume into main unless the same mount is already there;
// Kubernetes refuses two mounts at one path.
func (a *applier) addMount(field string, m corev1.VolumeMount) error {
	if m.MountPath == "" {
		return fieldErr(field, "is required")
	}
	for _, have := range a.main.VolumeMounts {
		if have.MountPath != m.MountPath {
			continue
		}
		if equality.Semantic.DeepEqual(have, m) {
			return nil
		}
		return fieldErr(field, "mount path %s is already used by volume %q", m.MountPath, have.Name)
	}
	a.main.VolumeMounts = append(a.main.VolumeMounts, m)
	return nil
}

// addVolumeAndMount is the common case: a volume mounted into main.
func (a *applier) addVolumeAndMount(volField, mountField string, v corev1.Volume, m corev1.VolumeMount) error {
	if err := a.addVolume(volField, v); err != nil {
		return err
	}
	return a.addMount(mountField, m)
}

// addEnv appends to main's env. Order matters (later $(VAR) references), so
// entries are kept in config order, after the container driver's.
func (a *applier) addEnv(field string, e corev1.EnvVar) error {
	if e.Name == "" {
		return fieldErr(field, "the environment variable name is required")
	}
	a.main.Env = append(a.main.Env, e)
	return nil
}

// The API server requires volume names to be DNS-1123 labels. KFP names a
// volume after the PVC, secret or config map, whose names may contain dots;
// we report that here rather than let the pod creation fail later.
func checkVolumeName(field, name string) error {
	if name == "" {
		return fieldErr(field, "the volume name is empty")
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fieldErr(field, "volume name %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

func parseQuantity(field, s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, fieldErr(field, "%q: %v", s, err)
	}
	if q.Sign() < 0 {
		return q, fieldErr(field, "%q: must not be negative", s)
	}
	return q, nil
}

// checkSubPath applies the API server's rule for subPath: relative, and
// never leaving the volume.
func checkSubPath(field, p string) error {
	if path.IsAbs(p) {
		return fieldErr(field, "%q must be a relative path", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fieldErr(field, "%q must not contain '..'", p)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
