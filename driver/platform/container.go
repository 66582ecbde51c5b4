package platform

import (
	corev1 "k8s.io/api/core/v1"
)

// applyImagePullPolicy sets main's pull policy; KFP accepts only the three
// Kubernetes values.
func (a *applier) applyImagePullPolicy(c *execConfig) error {
	p := corev1.PullPolicy(c.ImagePullPolicy)
	switch p {
	case "":
		return nil
	case corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent:
		a.main.ImagePullPolicy = p
		a.sum.add("pull policy %s", p)
		return nil
	}
	return fieldErr("imagePullPolicy", "unsupported value %q: must be Always, Never or IfNotPresent", p)
}

// applyFieldPathEnv exposes pod fields (e.g. an annotation the compiler put
// on the pod from podMetadata) to main as env vars.
func (a *applier) applyFieldPathEnv(c *execConfig) error {
	for i, f := range c.FieldPathAsEnv {
		field := at("fieldPathAsEnv", i)
		if f.FieldPath == "" {
			return fieldErr(field+".fieldPath", "is required")
		}
		env := corev1.EnvVar{Name: f.Name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: f.FieldPath}}}
		if err := a.addEnv(field+".name", env); err != nil {
			return err
		}
	}
	a.sum.addCount(len(c.FieldPathAsEnv), "field path env var", "field path env vars", "")
	return nil
}

// applyActiveDeadline bounds the pod's run time (kfp-kubernetes set_timeout).
// Zero means unset; KFP ignores negative values, we reject them.
func (a *applier) applyActiveDeadline(c *execConfig) error {
	s := int64(c.ActiveDeadlineSeconds)
	if s < 0 {
		return fieldErr("activeDeadlineSeconds", "%d: must not be negative", s)
	}
	if s > 0 {
		a.spec.ActiveDeadlineSeconds = ptr(s)
		a.sum.add("timeout %ds", s)
	}
	return nil
}

// applyPodMetadata applies nothing on purpose: labels and annotations are
// pod metadata, which a pod spec patch cannot carry. KFP's compiler puts them
// on the executor template (pod-metadata-* parameters), so they are already
// on the pod; the field is listed so that the key check accepts it.
func (a *applier) applyPodMetadata(*execConfig) error { return nil }
