package e2e

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod: every executor pod Argo created for task passes f.
func pod(task string, f func(*corev1.Pod) error) check {
	return eachLaunch(task, func(l *Launched) error {
		if l.Pod == nil {
			return fmt.Errorf("%s: executor pod not found", task)
		}
		if err := f(l.Pod); err != nil {
			return fmt.Errorf("%s: pod %s: %w", task, l.Pod.Name, err)
		}
		return nil
	})
}

// eachLaunch: task ran, and every run of it passes f.
func eachLaunch(task string, f func(*Launched) error) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if err := f(l); err != nil {
				return err
			}
		}
		return nil
	}
}

// mainImage: task's executor pod runs image in its main container.
func mainImage(task, image string) check {
	return pod(task, func(p *corev1.Pod) error {
		for _, c := range p.Spec.Containers {
			if c.Name == agentMain && c.Image != image {
				return fmt.Errorf("main image %s, want %s", c.Image, image)
			}
		}
		return nil
	})
}

// envFromSecret: task's main container has env name from Secret secret.
func envFromSecret(task, name, secret string) check {
	return pod(task, func(p *corev1.Pod) error {
		for _, e := range mainContainer(p).Env {
			if e.Name != name {
				continue
			}
			if ref := e.ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != secret {
				return fmt.Errorf("env %s = %+v, want it from Secret %s", name, e.ValueFrom, secret)
			}
			return nil
		}
		return fmt.Errorf("main container has no env %s", name)
	})
}

func mainContainer(p *corev1.Pod) *corev1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == agentMain {
			return &p.Spec.Containers[i]
		}
	}
	return &corev1.Container{}
}

// volumeMounted: task's main container mounts a volume at path whose
// source passes f.
func volumeMounted(task, path string, f func(corev1.VolumeSource) error) check {
	return pod(task, func(p *corev1.Pod) error {
		for _, m := range mainContainer(p).VolumeMounts {
			if m.MountPath != path {
				continue
			}
			for _, v := range p.Spec.Volumes {
				if v.Name == m.Name {
					return f(v.VolumeSource)
				}
			}
		}
		return fmt.Errorf("nothing mounted at %s", path)
	})
}

func claim(name string) func(corev1.VolumeSource) error {
	return func(v corev1.VolumeSource) error {
		if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != name {
			return fmt.Errorf("volume %+v, want PVC %s", v, name)
		}
		return nil
	}
}

// podLabel / podAnnotation: task's executor pod carries the metadata.
func podLabel(task, key, value string) check {
	return pod(task, func(p *corev1.Pod) error {
		if p.Labels[key] != value {
			return fmt.Errorf("label %s = %q, want %q", key, p.Labels[key], value)
		}
		return nil
	})
}

func podAnnotation(task, key, value string) check {
	return pod(task, func(p *corev1.Pod) error {
		if p.Annotations[key] != value {
			return fmt.Errorf("annotation %s = %q, want %q", key, p.Annotations[key], value)
		}
		return nil
	})
}

func secretVolume(name string) func(v corev1.VolumeSource) error {
	return func(v corev1.VolumeSource) error {
		if v.Secret == nil || v.Secret.SecretName != name {
			return fmt.Errorf("volume %+v, want Secret %s", v, name)
		}
		return nil
	}
}

func hasToleration(key string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, t := range p.Spec.Tolerations {
			if t.Key == key {
				return nil
			}
		}
		return fmt.Errorf("no toleration for %s in %v", key, p.Spec.Tolerations)
	}
}

// pvcLifecycle: the PVC the tasks mount at /data exists on the apiserver
// (the createpvc driver made it, as the plugin's account) and is being
// deleted (the deletepvc driver ran; with no controller-manager its
// protection finalizer stays).
func pvcLifecycle(users ...string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, users[0])
		if err != nil {
			return err
		}
		var name string
		_ = volumeMounted(users[0], "/data", func(v corev1.VolumeSource) error {
			if v.PersistentVolumeClaim != nil {
				name = v.PersistentVolumeClaim.ClaimName
			}
			return nil
		})(r)
		if name == "" {
			return fmt.Errorf("%s (pod %v) mounts no PVC at /data", users[0], ls[0].Pod != nil)
		}
		for _, u := range users[1:] {
			if err := volumeMounted(u, "/data", claim(name))(r); err != nil {
				return err
			}
		}
		pvc, err := r.Kube.CoreV1().PersistentVolumeClaims(r.Workflow.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if pvc.DeletionTimestamp == nil {
			return fmt.Errorf("PVC %s not deleted by deletepvc", name)
		}
		return nil
	}
}

func noEnv(name string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, e := range mainContainer(p).Env {
			if e.Name == name {
				return fmt.Errorf("env %s is set: %+v", name, e)
			}
		}
		return nil
	}
}

func noVolumeAt(path string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, m := range mainContainer(p).VolumeMounts {
			if m.MountPath == path {
				return fmt.Errorf("a volume is mounted at %s", path)
			}
		}
		return nil
	}
}

// runsImage: some container or init container of the pod runs image.
func runsImage(image string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
			if c.Image == image {
				return nil
			}
		}
		return fmt.Errorf("no container runs %s", image)
	}
}

// pvcMountedAll: every run of task mounts at /data the same PVC, which the
// createpvc driver created on the apiserver.
func pvcMountedAll(task string) check {
	return func(r *Result) error {
		var name string
		err := volumeMounted(task, "/data", func(v corev1.VolumeSource) error {
			if v.PersistentVolumeClaim == nil || (name != "" && v.PersistentVolumeClaim.ClaimName != name) {
				return fmt.Errorf("volume %+v, want the one PVC %q", v, name)
			}
			name = v.PersistentVolumeClaim.ClaimName
			return nil
		})(r)
		if err != nil {
			return err
		}
		_, err = r.Kube.CoreV1().PersistentVolumeClaims(r.Workflow.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		return err
	}
}
