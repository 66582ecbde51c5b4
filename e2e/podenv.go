package e2e

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// baseEnv is what every played container starts from instead of the
// harness's own environment (a container does not inherit the node's).
var baseEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp"}

// containerEnv resolves a container's env as the kubelet would: literal
// values and the downward-API fields pods here use. Anything else is an
// error naming the variable, never silently dropped.
func containerEnv(pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	env := append([]string(nil), baseEnv...)
	for _, e := range c.Env {
		v, err := envValue(pod, e)
		if err != nil {
			return nil, fmt.Errorf("container %s: env %s: %w", c.Name, e.Name, err)
		}
		env = append(env, e.Name+"="+v)
	}
	return env, nil
}

func envValue(pod *corev1.Pod, e corev1.EnvVar) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	if e.ValueFrom.FieldRef == nil {
		return "", fmt.Errorf("only value and fieldRef are played")
	}
	switch p := e.ValueFrom.FieldRef.FieldPath; p {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "spec.nodeName":
		return NodeName, nil
	case "status.podIP", "status.hostIP":
		return "127.0.0.1", nil
	default:
		return "", fmt.Errorf("fieldRef %s is not played", p)
	}
}

// setEnv replaces (or adds) name in env.
func setEnv(env []string, name, value string) []string {
	prefix := name + "="
	for i, kv := range env {
		if len(kv) >= len(prefix) && kv[:len(prefix)] == prefix {
			env[i] = prefix + value
			return env
		}
	}
	return append(env, prefix+value)
}
