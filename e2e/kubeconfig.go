package e2e

import (
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// sidecarKubeconfig plays the service-account token mount of container c:
// it finds the Secret the pod mounts at the standard path, and writes a
// kubeconfig for the apiserver with that Secret's token. The sidecar then
// acts as the plugin's account (under our ClusterRole), not as admin.
func (s *Stack) sidecarKubeconfig(ctx context.Context, pod *corev1.Pod, c *corev1.Container, dir string) (string, error) {
	secret, err := mountedSecret(pod, c, saTokenMount)
	if err != nil {
		return "", err
	}
	sec, err := s.Cluster.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, secret, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("token Secret of %s: %w", c.Name, err)
	}
	token := string(sec.Data["token"])
	if token == "" {
		return "", fmt.Errorf("token Secret %s/%s has no token", pod.Namespace, secret)
	}
	path := filepath.Join(dir, c.Name+".kubeconfig")
	return path, s.writeKubeconfig(path, token)
}

// mountedSecret names the Secret volume c mounts at path.
func mountedSecret(pod *corev1.Pod, c *corev1.Container, path string) (string, error) {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return v.Secret.SecretName, nil
			}
		}
	}
	return "", fmt.Errorf("container %s mounts no Secret at %s (automountServiceAccountToken off?)", c.Name, path)
}

// writeKubeconfig copies the admin kubeconfig with the user's token
// replaced.
func (s *Stack) writeKubeconfig(path, token string) error {
	cfg, err := clientcmd.LoadFromFile(s.Cluster.KubeconfigPath)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	for _, u := range cfg.AuthInfos {
		u.Token = token
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}
