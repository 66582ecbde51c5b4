package platform

import (
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// skipped reports whether err says the entry's name parameter resolved to
// null (an optional pipeline input left unset), and records the skip. KFP
// drops such entries silently; we drop them too but say so in the summary.
func (a *applier) skipped(field string, err error) bool {
	if errors.Is(err, errNull) {
		a.sum.skip(field)
		return true
	}
	return false
}

// applySecretVolumes mounts secrets; the volume is named after the secret,
// and optional defaults to false, as in KFP.
func (a *applier) applySecretVolumes(c *execConfig) error {
	n := 0
	for i, s := range c.SecretAsVolume {
		field := at("secretAsVolume", i)
		name, err := a.nameOf(field, "secretNameParameter", s.SecretNameParameter, s.SecretName, "secretName")
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		vol := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: name, Optional: ptr(s.Optional != nil && *s.Optional),
		}}}
		if err := a.addVolumeAndMount(field, field+".mountPath", vol, corev1.VolumeMount{Name: name, MountPath: s.MountPath}); err != nil {
			return err
		}
		n++
	}
	a.sum.addCount(n, "secret as volume", "secrets as volumes", "")
	return nil
}

// applySecretEnv sets one env var per secret key. optional is written only
// when the config sets it, as in KFP.
func (a *applier) applySecretEnv(c *execConfig) error {
	n := 0
	for i, s := range c.SecretAsEnv {
		field := at("secretAsEnv", i)
		name, err := a.nameOf(field, "secretNameParameter", s.SecretNameParameter, s.SecretName, "secretName")
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		for j, kv := range s.KeyToEnv {
			kf := at(field+".keyToEnv", j)
			if err := checkDataKey(kf+".secretKey", kv.SecretKey); err != nil {
				return err
			}
			ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: kv.SecretKey, Optional: copyBool(s.Optional)}
			if err := a.addEnv(kf+".envVar", corev1.EnvVar{Name: kv.EnvVar, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref}}); err != nil {
				return err
			}
		}
		if len(s.KeyToEnv) > 0 {
			n++
		}
	}
	a.sum.addCount(n, "secret as env", "secrets as env", "")
	return nil
}

// applyConfigMapVolumes mounts config maps, like secrets.
func (a *applier) applyConfigMapVolumes(c *execConfig) error {
	n := 0
	for i, cm := range c.ConfigMapAsVolume {
		field := at("configMapAsVolume", i)
		name, err := a.nameOf(field, "configMapNameParameter", cm.ConfigMapNameParameter, cm.ConfigMapName, "configMapName")
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		vol := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: ptr(cm.Optional != nil && *cm.Optional),
		}}}
		if err := a.addVolumeAndMount(field, field+".mountPath", vol, corev1.VolumeMount{Name: name, MountPath: cm.MountPath}); err != nil {
			return err
		}
		n++
	}
	a.sum.addCount(n, "config map as volume", "config maps as volumes", "")
	return nil
}

// applyConfigMapEnv sets one env var per config map key, like secrets.
func (a *applier) applyConfigMapEnv(c *execConfig) error {
	n := 0
	for i, cm := range c.ConfigMapAsEnv {
		field := at("configMapAsEnv", i)
		name, err := a.nameOf(field, "configMapNameParameter", cm.ConfigMapNameParameter, cm.ConfigMapName, "configMapName")
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		for j, kv := range cm.KeyToEnv {
			kf := at(field+".keyToEnv", j)
			if err := checkDataKey(kf+".configMapKey", kv.ConfigMapKey); err != nil {
				return err
			}
			ref := &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: kv.ConfigMapKey, Optional: copyBool(cm.Optional)}
			if err := a.addEnv(kf+".envVar", corev1.EnvVar{Name: kv.EnvVar, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: ref}}); err != nil {
				return err
			}
		}
		if len(cm.KeyToEnv) > 0 {
			n++
		}
	}
	a.sum.addCount(n, "config map as env", "config maps as env", "")
	return nil
}

// applyImagePullSecrets adds pull secrets to the pod, once per name.
func (a *applier) applyImagePullSecrets(c *execConfig) error {
	n := 0
	for i, s := range c.ImagePullSecret {
		field := at("imagePullSecret", i)
		name, err := a.nameOf(field, "secretNameParameter", s.SecretNameParameter, s.SecretName, "secretName")
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		if !hasPullSecret(a.spec.ImagePullSecrets, name) {
			a.spec.ImagePullSecrets = append(a.spec.ImagePullSecrets, corev1.LocalObjectReference{Name: name})
			n++
		}
	}
	a.sum.addCount(n, "image pull secret", "image pull secrets", "")
	return nil
}

func hasPullSecret(refs []corev1.LocalObjectReference, name string) bool {
	for _, r := range refs {
		if r.Name == name {
			return true
		}
	}
	return false
}

// checkDataKey applies the API server's rule for secret and config map keys.
func checkDataKey(field, key string) error {
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return fieldErr(field, "%q: %s", key, strings.Join(errs, "; "))
	}
	return nil
}

func copyBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	return ptr(*b)
}
