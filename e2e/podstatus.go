package e2e

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// bindPod assigns a pod to our node, as the scheduler would; only then
// does the apiserver route pods/log to the kubelet stand-in.
func (s *Stack) bindPod(ctx context.Context, pod *corev1.Pod) error {
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: NodeName}}
	if err := s.Cluster.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("bind pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// setPodStatus writes status as the kubelet does (pods/status). A pod
// already gone is not an error: the controller deletes finished pods.
func (s *Stack) setPodStatus(ctx context.Context, ns, name string, status corev1.PodStatus) error {
	pods := s.Cluster.Client.CoreV1().Pods(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status = status
		_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("status of pod %s/%s: %w", ns, name, err)
	}
	return nil
}

func runningStatus(pod *corev1.Pod) corev1.PodStatus {
	now := metav1.Now()
	st := baseStatus(pod, corev1.PodRunning, now)
	st.InitContainerStatuses = terminated(pod.Spec.InitContainers, 0, now)
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true, Started: ptrTo(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	st.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
	return st
}

// finishedStatus is a pod whose containers all exited with exitCode.
func finishedStatus(pod *corev1.Pod, exitCode int32, message string) corev1.PodStatus {
	now := metav1.Now()
	phase := corev1.PodSucceeded
	if exitCode != 0 {
		phase = corev1.PodFailed
	}
	st := baseStatus(pod, phase, now)
	st.Message = message
	st.InitContainerStatuses = terminated(pod.Spec.InitContainers, 0, now)
	st.ContainerStatuses = terminated(pod.Spec.Containers, exitCode, now)
	return st
}

func failedStatus(pod *corev1.Pod, message string) corev1.PodStatus {
	return finishedStatus(pod, 1, message)
}

func baseStatus(pod *corev1.Pod, phase corev1.PodPhase, now metav1.Time) corev1.PodStatus {
	return corev1.PodStatus{Phase: phase, HostIP: "127.0.0.1", PodIP: "127.0.0.1", StartTime: &now,
		PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}}, HostIPs: []corev1.HostIP{{IP: "127.0.0.1"}}}
}

// terminated reports containers as exited; a non-zero exitCode goes to
// "main" only (the user code failed; Argo's wait container exits 0).
func terminated(cs []corev1.Container, exitCode int32, now metav1.Time) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, c := range cs {
		code, reason := int32(0), "Completed"
		if c.Name == agentMain && exitCode != 0 {
			code, reason = exitCode, "Error"
		}
		out = append(out, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptrTo(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: code, Reason: reason, StartedAt: now, FinishedAt: now}}})
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }
