package platform

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// applyPVCMounts mounts existing PVCs: volume and mount are both named after
// the PVC, as in KFP. The name must resolve: unlike other entries a PVC
// mount whose name is null is an error, not skipped (KFP does the same).
func (a *applier) applyPVCMounts(c *execConfig) error {
	for i, m := range c.PvcMount {
		field := at("pvcMount", i)
		name, err := a.pvcName(field, m)
		if err != nil {
			return err
		}
		if err := checkSubPath(field+".subPath", m.SubPath); err != nil {
			return err
		}
		vol := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name},
		}}
		mount := corev1.VolumeMount{Name: name, MountPath: m.MountPath, SubPath: m.SubPath}
		if err := a.addVolumeAndMount(field, field+".mountPath", vol, mount); err != nil {
			return err
		}
		a.sum.add("mounted pvc %q at %s", name, m.MountPath)
	}
	return nil
}

// pvcName resolves pvcNameParameter, or else the deprecated pvc_reference
// oneof (constant, taskOutputParameter, componentInputParameter).
func (a *applier) pvcName(field string, m pvcMount) (string, error) {
	paramField, spec, err := pvcNameSpec(field, m)
	if err != nil {
		return "", err
	}
	name, err := a.resolveName(joinPath(field, paramField), spec)
	if errors.Is(err, errNull) {
		return "", fieldErr(joinPath(field, paramField), "%s resolved to null, but a PVC mount needs a PVC name", describeParam(spec))
	}
	return name, err
}

func pvcNameSpec(field string, m pvcMount) (string, *pipelinespec.TaskInputsSpec_InputParameterSpec, error) {
	if m.PvcNameParameter != nil && m.PvcNameParameter.spec != nil {
		return "pvcNameParameter", m.PvcNameParameter.spec, nil
	}
	var set []string
	var spec *pipelinespec.TaskInputsSpec_InputParameterSpec
	if m.Constant != "" {
		set = append(set, "constant")
		spec = &pipelinespec.TaskInputsSpec_InputParameterSpec{Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_RuntimeValue{
			RuntimeValue: &pipelinespec.ValueOrRuntimeParameter{Value: &pipelinespec.ValueOrRuntimeParameter_Constant{
				Constant: structpb.NewStringValue(m.Constant)}}}}
	}
	if t := m.TaskOutputParameter; t != nil {
		set = append(set, "taskOutputParameter")
		spec = &pipelinespec.TaskInputsSpec_InputParameterSpec{Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_TaskOutputParameter{
			TaskOutputParameter: &pipelinespec.TaskInputsSpec_InputParameterSpec_TaskOutputParameterSpec{
				ProducerTask: t.ProducerTask, OutputParameterKey: t.OutputParameterKey}}}
	}
	if m.ComponentInputParameter != "" {
		set = append(set, "componentInputParameter")
		spec = &pipelinespec.TaskInputsSpec_InputParameterSpec{Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_ComponentInputParameter{
			ComponentInputParameter: m.ComponentInputParameter}}
	}
	switch len(set) {
	case 0:
		return "", nil, fieldErr(field, "the PVC name is missing (pvcNameParameter)")
	case 1:
		return set[0], spec, nil
	}
	return "", nil, fieldErr(field, "%s are alternatives; give only one", strings.Join(set, " and "))
}

// applyEphemeralVolumes adds generic ephemeral volumes: a PVC created with
// the pod from the given template and deleted with it.
func (a *applier) applyEphemeralVolumes(c *execConfig) error {
	for i, e := range c.GenericEphemeralVolume {
		field := at("genericEphemeralVolume", i)
		vol, err := ephemeralVolume(field, e)
		if err != nil {
			return err
		}
		mount := corev1.VolumeMount{Name: e.VolumeName, MountPath: e.MountPath}
		if err := a.addVolumeAndMount(field+".volumeName", field+".mountPath", vol, mount); err != nil {
			return err
		}
	}
	a.sum.addCount(len(c.GenericEphemeralVolume), "ephemeral volume", "ephemeral volumes", "")
	return nil
}

func ephemeralVolume(field string, e genericEphemeralVolume) (corev1.Volume, error) {
	modes, err := accessModes(field+".accessModes", e.AccessModes)
	if err != nil {
		return corev1.Volume{}, err
	}
	if e.Size == "" {
		return corev1.Volume{}, fieldErr(field+".size", "is required")
	}
	size, err := parseQuantity(field+".size", e.Size)
	if err != nil {
		return corev1.Volume{}, err
	}
	// As in KFP: defaultStorageClass leaves the class unset (the cluster
	// default applies); otherwise the given class is used, "" included,
	// which asks for no class (a statically provisioned volume).
	var class *string
	if !e.DefaultStorageClass {
		class = ptr(e.StorageClassName)
	}
	tmpl := &corev1.PersistentVolumeClaimTemplate{
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			StorageClassName: class,
		},
	}
	if e.Metadata != nil {
		tmpl.ObjectMeta = metav1.ObjectMeta{Labels: e.Metadata.Labels, Annotations: e.Metadata.Annotations}
	}
	return corev1.Volume{Name: e.VolumeName, VolumeSource: corev1.VolumeSource{
		Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: tmpl},
	}}, nil
}

var knownAccessModes = map[string]corev1.PersistentVolumeAccessMode{
	"ReadWriteOnce":    corev1.ReadWriteOnce,
	"ReadOnlyMany":     corev1.ReadOnlyMany,
	"ReadWriteMany":    corev1.ReadWriteMany,
	"ReadWriteOncePod": corev1.ReadWriteOncePod,
}

// accessModes maps the names; KFP turns an unknown one into "" silently.
func accessModes(field string, names []string) ([]corev1.PersistentVolumeAccessMode, error) {
	if len(names) == 0 {
		return nil, fieldErr(field, "at least one access mode is required")
	}
	modes := make([]corev1.PersistentVolumeAccessMode, len(names))
	for i, n := range names {
		m, ok := knownAccessModes[n]
		if !ok {
			return nil, fieldErr(at(field, i), "unknown access mode %q (want one of %s)", n, strings.Join(slices.Sorted(maps.Keys(knownAccessModes)), ", "))
		}
		modes[i] = m
	}
	return modes, nil
}

// applyEmptyDirs adds emptyDir volumes, optionally in memory and limited.
func (a *applier) applyEmptyDirs(c *execConfig) error {
	for i, e := range c.EmptyDirMounts {
		field := at("emptyDirMounts", i)
		src, err := emptyDir(field, e)
		if err != nil {
			return err
		}
		vol := corev1.Volume{Name: e.VolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: src}}
		mount := corev1.VolumeMount{Name: e.VolumeName, MountPath: e.MountPath}
		if err := a.addVolumeAndMount(field+".volumeName", field+".mountPath", vol, mount); err != nil {
			return err
		}
	}
	a.sum.addCount(len(c.EmptyDirMounts), "empty dir", "empty dirs", "")
	return nil
}

func emptyDir(field string, e emptyDirMount) (*corev1.EmptyDirVolumeSource, error) {
	src := &corev1.EmptyDirVolumeSource{}
	if e.Medium != nil {
		m := *e.Medium
		if m != "" && m != string(corev1.StorageMediumMemory) && !strings.HasPrefix(m, string(corev1.StorageMediumHugePages)) {
			return nil, fieldErr(field+".medium", "unknown medium %q (want \"\", Memory or HugePages[-<size>])", m)
		}
		src.Medium = corev1.StorageMedium(m)
	}
	if e.SizeLimit != nil && *e.SizeLimit != "" {
		q, err := parseQuantity(field+".sizeLimit", *e.SizeLimit)
		if err != nil {
			return nil, err
		}
		src.SizeLimit = &q
	}
	return src, nil
}

// sharedMemoryPath and defaultSharedMemoryVolume: the volume KFP's newer
// compiler path adds for enabledSharedMemory.
const (
	sharedMemoryPath          = "/dev/shm"
	defaultSharedMemoryVolume = "dshm"
)

// applySharedMemory mounts a memory-backed emptyDir at /dev/shm (containers
// get 64 MiB by default, too little for e.g. PyTorch data loaders). KFP's
// driver ignores enabledSharedMemory; see doc.go.
func (a *applier) applySharedMemory(c *execConfig) error {
	shm := c.EnabledSharedMemory
	if shm == nil {
		return nil
	}
	field := "enabledSharedMemory"
	name := shm.VolumeName
	if name == "" {
		name = defaultSharedMemoryVolume
	}
	src := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
	if shm.Size != "" {
		q, err := parseQuantity(field+".size", shm.Size)
		if err != nil {
			return err
		}
		src.SizeLimit = &q
	}
	vol := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: src}}
	if err := a.addVolumeAndMount(field+".volumeName", field, vol, corev1.VolumeMount{Name: name, MountPath: sharedMemoryPath}); err != nil {
		return err
	}
	a.sum.add("shared memory at %s", sharedMemoryPath)
	return nil
}
