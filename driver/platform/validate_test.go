package platform

import (
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkPodLocally is the part of the API server's pod validation we can do
// without k8s.io/kubernetes: names, references between containers and
// volumes, quantities, and a lossless JSON round trip (the patch is sent as
// JSON). The real server-side dry run runs elsewhere, through PodFor.
func checkPodLocally(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	for _, err := range podProblems(pod) {
		t.Error(err)
	}
	b, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	var back corev1.Pod
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(pod, &back) {
		t.Errorf("the pod does not survive a JSON round trip: %s", b)
	}
}

func podProblems(pod *corev1.Pod) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, e := range validation.IsDNS1123Subdomain(pod.Name) {
		add("pod name: %s", e)
	}
	for _, e := range validation.IsDNS1123Label(pod.Namespace) {
		add("namespace: %s", e)
	}
	spec := &pod.Spec
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		for _, e := range validation.IsDNS1123Label(v.Name) {
			add("volume %q: %s", v.Name, e)
		}
		if volumes[v.Name] {
			add("volume %q defined twice", v.Name)
		}
		volumes[v.Name] = true
		errs = append(errs, volumeProblems(v)...)
	}
	names := map[string]bool{}
	for _, c := range append(append([]corev1.Container(nil), spec.Containers...), spec.InitContainers...) {
		for _, e := range validation.IsDNS1123Label(c.Name) {
			add("container %q: %s", c.Name, e)
		}
		if names[c.Name] {
			add("container name %q used twice", c.Name)
		}
		names[c.Name] = true
		errs = append(errs, containerProblems(c, volumes)...)
	}
	for k, v := range spec.NodeSelector {
		for _, e := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
			add("nodeSelector %q: %s", k, e)
		}
	}
	return errs
}

func volumeProblems(v corev1.Volume) []error {
	var errs []error
	src := reflect.ValueOf(v.VolumeSource)
	set := 0
	for i := range src.NumField() {
		if !src.Field(i).IsNil() {
			set++
		}
	}
	if set != 1 {
		errs = append(errs, fmt.Errorf("volume %q has %d sources, want 1", v.Name, set))
	}
	if ed := v.EmptyDir; ed != nil && ed.SizeLimit != nil && ed.SizeLimit.Sign() < 0 {
		errs = append(errs, fmt.Errorf("volume %q: negative sizeLimit", v.Name))
	}
	if eph := v.Ephemeral; eph != nil {
		spec := eph.VolumeClaimTemplate.Spec
		if len(spec.AccessModes) == 0 {
			errs = append(errs, fmt.Errorf("volume %q: no access modes", v.Name))
		}
		if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.Sign() <= 0 {
			errs = append(errs, fmt.Errorf("volume %q: no storage request", v.Name))
		}
	}
	return errs
}

func containerProblems(c corev1.Container, volumes map[string]bool) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("container %q: "+format, append([]any{c.Name}, args...)...))
	}
	if c.Image == "" {
		add("no image")
	}
	paths := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if !volumes[m.Name] {
			add("mount of undefined volume %q", m.Name)
		}
		if m.MountPath == "" || strings.Contains(m.MountPath, ":") {
			add("bad mount path %q", m.MountPath)
		}
		if paths[m.MountPath] {
			add("mount path %q used twice", m.MountPath)
		}
		paths[m.MountPath] = true
		if path.IsAbs(m.SubPath) || strings.Contains(m.SubPath, "..") {
			add("bad subPath %q", m.SubPath)
		}
	}
	for _, e := range c.Env {
		if e.Name == "" {
			add("env var without a name")
		}
	}
	for _, list := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		for name, q := range list {
			if q.Sign() < 0 {
				add("negative %s", name)
			}
		}
	}
	return errs
}

func TestCheckPodLocallyFindsProblems(t *testing.T) {
	pod := PodFor(&corev1.PodSpec{
		Containers: []corev1.Container{{Name: "main", VolumeMounts: []corev1.VolumeMount{{Name: "missing", MountPath: "/x"}}}},
		Volumes:    []corev1.Volume{{Name: "Bad_Name", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	})
	got := fmt.Sprint(podProblems(pod))
	for _, want := range []string{`volume "Bad_Name"`, `mount of undefined volume "missing"`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %s do not mention %s", got, want)
		}
	}
}

func TestPodFor(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "main"}}}
	pod := PodFor(spec)
	if pod.Name == "" || pod.Namespace == "" || pod.Kind != "Pod" || pod.APIVersion != "v1" {
		t.Errorf("placeholders missing: %+v", pod.ObjectMeta)
	}
	if pod.Spec.Containers[0].Image != PlaceholderImage || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("spec not completed: %+v", pod.Spec)
	}
	if spec.Containers[0].Image != "" || spec.RestartPolicy != "" {
		t.Error("PodFor modified its argument")
	}
	checkPodLocally(t, pod)
}
