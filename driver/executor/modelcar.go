package executor

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	corev1 "k8s.io/api/core/v1"
)

// addModelcars serves each oci:// input artifact (a model image) to the
// main container the KServe "modelcar" way: the image runs as a sidecar
// that exposes its /models through a symlink in a shared emptyDir (the pod
// shares its process namespace), after an init container pre-pulls the
// image and checks it holds models. The sidecar exits once the launcher
// writes launcher-complete.
func addModelcars(spec *corev1.PodSpec, in *pipelinespec.ExecutorInput_Inputs, env []corev1.EnvVar) {
	images := ociImages(in)
	if len(images) == 0 {
		return
	}
	spec.ShareProcessNamespace = ptrTo(true)
	for i, img := range images {
		local := localPath("oci://" + img)                // /oci/<img>/models
		mountPath := strings.TrimSuffix(local, "/models") // /oci/<img>
		volume := "oci-" + strconv.Itoa(i)
		mount := corev1.VolumeMount{Name: volume, MountPath: mountPath, SubPath: strings.TrimPrefix(mountPath, "/oci/")}
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, mount)
		spec.InitContainers = append(spec.InitContainers, modelcarContainer(fmt.Sprintf("oci-prepull-%d", i), img, env, nil,
			`test -d /models && [ -n "$(ls -A /models)" ] || { echo "image has no files in /models"; exit 1; }`))
		// $$$$ is $$ (the shell's PID) after Kubernetes' own $$ escaping.
		sidecar := modelcarContainer(volume, img, env, []corev1.VolumeMount{mount}, fmt.Sprintf(
			`ln -s /proc/$$$$/root/models %q && until [ -f %q ]; do sleep 1; done`, local, mountPath+"/launcher-complete"))
		sidecar.ImagePullPolicy = corev1.PullIfNotPresent
		spec.Containers = append(spec.Containers, sidecar)
	}
}

// ociImages lists the oci:// input artifacts' images, ordered by
// "<input>-<index>".
func ociImages(in *pipelinespec.ExecutorInput_Inputs) []string {
	byKey := map[string]string{}
	for name, list := range in.GetArtifacts() {
		for i, a := range list.GetArtifacts() {
			if img, ok := strings.CutPrefix(a.GetUri(), "oci://"); ok {
				byKey[name+"-"+strconv.Itoa(i)] = img
			}
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

func modelcarContainer(name, image string, env []corev1.EnvVar, mounts []corev1.VolumeMount, script string) corev1.Container {
	return corev1.Container{
		Name: name, Image: image, Command: []string{"sh", "-c", script},
		Env: env, VolumeMounts: mounts,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptrTo(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }
