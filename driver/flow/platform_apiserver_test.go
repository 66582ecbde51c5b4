package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPlatformSpecPodsOnAPIServer drives the 17 kfp-kubernetes snapshot
// specs through the driver against a real kube-apiserver (createpvc and
// deletepvc really run), merges every pod spec patch into KFP's executor
// pod as Argo does, and has the API server accept the pod in a server-side
// dry run. The pod it returns must still hold everything the patch set.
func TestPlatformSpecPodsOnAPIServer(t *testing.T) {
	e := startAPIEnv(t, "kfp-platform")
	pods, want := 0, 0
	for _, file := range platformSpecFiles(t) {
		want += len(platformSummaries[file]) // its container tasks
		t.Run(file, func(t *testing.T) {
			trace := walkPlatformSpec(t, e.Env, e.namespace, file)
			checkMessages(t, e.Env, file, trace)
			for _, s := range trace.Steps {
				if s.Result.PodSpecPatch == "" {
					continue
				}
				e.dryRunPod(t, podName(file, s.Task), s.Result.PodSpecPatch)
				pods++
			}
		})
	}
	// The control: the same dry run rejects a patch that mounts a volume
	// neither the patch nor the executor pod declares.
	bad := `{"containers": [{"name": "main", "volumeMounts": [{"name": "undeclared", "mountPath": "/x"}]}]}`
	if _, err := e.dryRun(t, "control", bad); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "undeclared") {
		t.Errorf("dry run of a pod mounting an undeclared volume: %v, want Invalid", err)
	}
	if pods != want && !t.Failed() {
		t.Errorf("%d pods dry-run, want %d (one per container task of the 17 specs)", pods, want)
	}
}

func podName(file, task string) string {
	return strings.ReplaceAll(strings.TrimSuffix(file, ".yaml"), "_", "-") + "-" + task
}

// dryRunPod has the API server accept the executor pod with the patch
// applied (dry run only) and checks the stored form kept the patch.
func (e *apiEnv) dryRunPod(t *testing.T, name, patch string) {
	t.Helper()
	var p corev1.PodSpec
	if err := json.Unmarshal([]byte(patch), &p); err != nil {
		t.Fatalf("%s: patch: %v", name, err)
	}
	got, err := e.dryRun(t, name, patch)
	if err != nil {
		t.Fatalf("%s: the API server rejected the executor pod with the patch: %v\npatch: %s", name, err, patch)
	}
	if problems := patchKept(&p, &got.Spec); len(problems) > 0 {
		t.Errorf("%s: the accepted pod lost parts of the patch:\n  %s", name, strings.Join(problems, "\n  "))
	}
}

// dryRun creates the executor pod with patch applied, server-side dry run.
func (e *apiEnv) dryRun(t *testing.T, name, patch string) (*corev1.Pod, error) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"pipelines.kubeflow.org/run_name": "run"}},
		Spec:       applyPatch(t, executorPodSpec(), patch),
	}
	return e.cluster.Client.CoreV1().Pods(e.namespace).Create(context.Background(), pod,
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
}

// patchKept lists what the patch set that the pod spec does not have:
// volumes, the main container's image, command, mounts, env and security
// context, init containers, and the pod's scheduling fields.
func patchKept(patch, pod *corev1.PodSpec) []string {
	var miss []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			miss = append(miss, fmt.Sprintf(format, args...))
		}
	}
	for _, v := range patch.Volumes {
		check(hasVolume(pod.Volumes, v.Name), "volume %s", v.Name)
	}
	for _, c := range patch.InitContainers {
		check(container(pod.InitContainers, c.Name) != nil, "init container %s", c.Name)
	}
	pm, gm := container(patch.Containers, "main"), container(pod.Containers, "main")
	if pm == nil || gm == nil {
		return append(miss, "main container")
	}
	miss = append(miss, mainKept(pm, gm)...)
	for k, v := range patch.NodeSelector {
		check(pod.NodeSelector[k] == v, "nodeSelector %s=%s", k, v)
	}
	check(len(pod.Tolerations) >= len(patch.Tolerations), "tolerations %v", patch.Tolerations)
	check(patch.Affinity == nil || pod.Affinity != nil, "affinity")
	check(patch.ActiveDeadlineSeconds == nil || pod.ActiveDeadlineSeconds != nil && *pod.ActiveDeadlineSeconds == *patch.ActiveDeadlineSeconds,
		"activeDeadlineSeconds")
	for _, s := range patch.ImagePullSecrets {
		check(containsRef(pod.ImagePullSecrets, s.Name), "imagePullSecret %s", s.Name)
	}
	return miss
}

func mainKept(patch, pod *corev1.Container) []string {
	var miss []string
	if pod.Image != patch.Image || strings.Join(pod.Command, " ") != strings.Join(patch.Command, " ") {
		miss = append(miss, fmt.Sprintf("main image/command: %s %q", pod.Image, pod.Command))
	}
	for _, m := range patch.VolumeMounts {
		if !hasMount(pod.VolumeMounts, m) {
			miss = append(miss, "main mount "+m.Name+" at "+m.MountPath)
		}
	}
	for _, v := range patch.Env {
		if !hasEnv(pod.Env, v.Name) {
			miss = append(miss, "main env "+v.Name)
		}
	}
	if sc := patch.SecurityContext; sc != nil && sc.RunAsUser != nil &&
		(pod.SecurityContext == nil || pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser != *sc.RunAsUser) {
		miss = append(miss, "main securityContext.runAsUser")
	}
	return miss
}

func container(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func hasVolume(vs []corev1.Volume, name string) bool {
	for _, v := range vs {
		if v.Name == name {
			return true
		}
	}
	return false
}

func hasMount(ms []corev1.VolumeMount, m corev1.VolumeMount) bool {
	for _, x := range ms {
		if x.Name == m.Name && x.MountPath == m.MountPath && x.SubPath == m.SubPath {
			return true
		}
	}
	return false
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func containsRef(refs []corev1.LocalObjectReference, name string) bool {
	for _, r := range refs {
		if r.Name == name {
			return true
		}
	}
	return false
}
