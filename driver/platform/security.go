package platform

import (
	corev1 "k8s.io/api/core/v1"
)

// applyAdminDefaults writes the administrator's identity defaults onto main
// before anything the user asked for, so that user values can only fill
// what the admin left open, and sets hostUsers (user namespaces), which the
// config cannot set. KFP does this only for tasks that have a config; the
// compiler's template-level security context covers the others.
func (a *applier) applyAdminDefaults() {
	o := a.opts
	if o.DefaultRunAsUser != nil || o.DefaultRunAsGroup != nil || o.DefaultRunAsNonRoot != nil {
		sc := a.mainSecurityContext()
		if o.DefaultRunAsUser != nil {
			sc.RunAsUser = ptr(*o.DefaultRunAsUser)
		}
		if o.DefaultRunAsGroup != nil {
			sc.RunAsGroup = ptr(*o.DefaultRunAsGroup)
		}
		if o.DefaultRunAsNonRoot != nil {
			sc.RunAsNonRoot = ptr(*o.DefaultRunAsNonRoot)
		}
	}
	if o.DefaultHostUsers != nil {
		a.spec.HostUsers = ptr(*o.DefaultHostUsers)
	}
}

func (a *applier) mainSecurityContext() *corev1.SecurityContext {
	if a.main.SecurityContext == nil {
		a.main.SecurityContext = &corev1.SecurityContext{}
	}
	return a.main.SecurityContext
}

// applySecurityContext applies the user's runAsUser, runAsGroup and
// runAsNonRoot where nothing (the admin) set them already, warning about the
// ones it ignores, and always drops all capabilities (PSS baseline).
func (a *applier) applySecurityContext(c *execConfig) error {
	user := c.SecurityContext
	if user == nil {
		return nil
	}
	if err := checkID("securityContext.runAsUser", user.RunAsUser); err != nil {
		return err
	}
	if err := checkID("securityContext.runAsGroup", user.RunAsGroup); err != nil {
		return err
	}
	sc := a.mainSecurityContext()
	sc.RunAsUser = keepAdmin(a, "runAsUser", sc.RunAsUser, toInt64(user.RunAsUser))
	sc.RunAsGroup = keepAdmin(a, "runAsGroup", sc.RunAsGroup, toInt64(user.RunAsGroup))
	sc.RunAsNonRoot = keepAdmin(a, "runAsNonRoot", sc.RunAsNonRoot, user.RunAsNonRoot)
	if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		return fieldErr("securityContext.runAsUser", "0 (root) contradicts runAsNonRoot=true")
	}
	sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	a.sum.add("security context")
	return nil
}

// keepAdmin returns the value to use: have (set by the admin) when set,
// else the user's want. An ignored, different user value gives a warning.
func keepAdmin[T comparable](a *applier, name string, have, want *T) *T {
	if want == nil {
		return have
	}
	if have != nil {
		if *have != *want {
			a.sum.warn("ignored securityContext.%s=%v (admin default %v)", name, *want, *have)
		}
		return have
	}
	return ptr(*want)
}

func toInt64(v *protoInt64) *int64 {
	if v == nil {
		return nil
	}
	return ptr(int64(*v))
}

// checkID applies the API server's range for user and group IDs.
func checkID(field string, v *protoInt64) error {
	if v != nil && (*v < 0 || *v > 2147483647) {
		return fieldErr(field, "%d: must be between 0 and 2147483647", int64(*v))
	}
	return nil
}

// hardened is the security context init containers get: no privilege
// escalation, no capabilities, the runtime's seccomp profile, and the admin's
// identity defaults. User init containers run next to the task with its
// volumes, so they must not be weaker than main.
func (a *applier) hardened() *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if v := a.opts.DefaultRunAsUser; v != nil {
		sc.RunAsUser = ptr(*v)
	}
	if v := a.opts.DefaultRunAsGroup; v != nil {
		sc.RunAsGroup = ptr(*v)
	}
	if v := a.opts.DefaultRunAsNonRoot; v != nil {
		sc.RunAsNonRoot = ptr(*v)
	}
	return sc
}
