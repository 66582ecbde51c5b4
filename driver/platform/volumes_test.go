package platform

import (
	"errors"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
)

func TestPVCMounts(t *testing.T) {
	vol := `{"volumes": [{"name": "my-pvc", "persistentVolumeClaim": {"claimName": "my-pvc"}}], `
	runCases(t, []applyCase{
		{name: "constant parameter", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"runtimeValue": {"constant": "my-pvc"}}}]}`,
			want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/data"}]}`, sum: `mounted pvc "my-pvc" at /data`},
		{name: "component input parameter", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"componentInputParameter": "pvc"}}]}`,
			in: inputs(map[string]any{"pvc": "my-pvc"}), want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/data"}]}`},
		{name: "parameter wins over deprecated constant", cfg: `{"pvcMount": [{"mountPath": "/data", "constant": "not-used", "pvcNameParameter": {"runtimeValue": {"constant": "my-pvc"}}}]}`,
			want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/data"}]}`},
		{name: "deprecated constant", cfg: `{"pvcMount": [{"mountPath": "/data", "constant": "my-pvc"}]}`,
			want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/data"}]}`},
		{name: "deprecated component input", cfg: `{"pvcMount": [{"mountPath": "/data", "componentInputParameter": "pvc"}]}`,
			in: inputs(map[string]any{"pvc": "my-pvc"}), want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/data"}]}`},
		{name: "deprecated task output", cfg: `{"pvcMount": [{"mountPath": "/data", "taskOutputParameter": {"producerTask": "createpvc", "outputParameterKey": "name"}}]}`,
			in:   MapInputs{Outputs: map[string]map[string]*structpb.Value{"createpvc": {"name": structpb.NewStringValue("my-pvc")}}},
			want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/data"}]}`},
		{name: "sub path", cfg: `{"pvcMount": [{"mountPath": "/models", "subPath": "a/b", "constant": "my-pvc"}]}`,
			want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/models", "subPath": "a/b"}]}`},
		{name: "same pvc twice shares one volume", cfg: `{"pvcMount": [{"mountPath": "/a", "constant": "my-pvc"}, {"mountPath": "/b", "constant": "my-pvc"}]}`,
			want: vol + `"mounts": [{"name": "my-pvc", "mountPath": "/a"}, {"name": "my-pvc", "mountPath": "/b"}]}`,
			sum:  `mounted pvc "my-pvc" at /a; mounted pvc "my-pvc" at /b`},
		{name: "no name", cfg: `{"pvcMount": [{"mountPath": "/data"}]}`, err: "kubernetes_config.pvcMount[0]: the PVC name is missing"},
		{name: "two deprecated names", cfg: `{"pvcMount": [{"mountPath": "/data", "constant": "a", "componentInputParameter": "b"}]}`,
			err: "pvcMount[0]: constant and componentInputParameter are alternatives"},
		{name: "null name is an error", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"componentInputParameter": "pvc"}}]}`,
			in: inputs(map[string]any{"pvc": nil}), err: `pvcMount[0].pvcNameParameter: component input "pvc" resolved to null`},
		{name: "empty name", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"componentInputParameter": "pvc"}}]}`,
			in: inputs(map[string]any{"pvc": ""}), err: "resolved to an empty string"},
		{name: "non-string name", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"componentInputParameter": "pvc"}}]}`,
			in: inputs(map[string]any{"pvc": 3}), err: "must resolve to a string, got a number"},
		{name: "missing input", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"componentInputParameter": "pvc"}}]}`,
			in: inputs(nil), err: `component input parameter "pvc" not found`},
		{name: "no inputs given", cfg: `{"pvcMount": [{"mountPath": "/data", "pvcNameParameter": {"componentInputParameter": "pvc"}}]}`,
			err: "no task inputs were given"},
		{name: "empty mount path", cfg: `{"pvcMount": [{"constant": "my-pvc"}]}`, err: "pvcMount[0].mountPath: is required"},
		{name: "absolute sub path", cfg: `{"pvcMount": [{"mountPath": "/d", "subPath": "/etc", "constant": "my-pvc"}]}`, err: "pvcMount[0].subPath: \"/etc\" must be a relative path"},
		{name: "escaping sub path", cfg: `{"pvcMount": [{"mountPath": "/d", "subPath": "a/../..", "constant": "my-pvc"}]}`, err: "must not contain '..'"},
		{name: "name not a volume name", cfg: `{"pvcMount": [{"mountPath": "/d", "constant": "my.pvc"}]}`, err: `pvcMount[0]: volume name "my.pvc"`},
		{name: "mount path taken", cfg: `{"pvcMount": [{"mountPath": "/d", "constant": "a"}, {"mountPath": "/d", "constant": "b"}]}`,
			err: `pvcMount[1].mountPath: mount path /d is already used by volume "a"`},
	})
}

func TestResolverErrorsAreWrapped(t *testing.T) {
	transient := errors.New("metadata store unavailable")
	in := InputsFunc(func(*pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) { return nil, transient })
	_, err := Apply(baseSpec(), nil, []byte(`{"pvcMount": [{"mountPath": "/d", "pvcNameParameter": {"taskOutputParameter": {"producerTask": "p", "outputParameterKey": "k"}}}]}`), in, Options{})
	if !errors.Is(err, transient) {
		t.Fatalf("error %v does not wrap the resolver's error", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "pvcMount[0].pvcNameParameter" {
		t.Fatalf("error %v is not a FieldError for the parameter", err)
	}
	checkErr(t, err, `resolving output "k" of task "p": metadata store unavailable`)
}

func TestEphemeralVolumes(t *testing.T) {
	runCases(t, []applyCase{
		{name: "storage class", cfg: `{"genericEphemeralVolume": [{"volumeName": "scratch", "mountPath": "/scratch",
				"accessModes": ["ReadWriteOnce", "ReadOnlyMany"], "size": "0.5Gi", "storageClassName": "fast",
				"metadata": {"labels": {"l": "1"}}}]}`,
			want: `{"volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
					"metadata": {"creationTimestamp": null, "labels": {"l": "1"}},
					"spec": {"accessModes": ["ReadWriteOnce", "ReadOnlyMany"], "resources": {"requests": {"storage": "512Mi"}},
						"storageClassName": "fast"}}}}],
				"mounts": [{"name": "scratch", "mountPath": "/scratch"}]}`,
			sum: "1 ephemeral volume"},
		{name: "no class given means no class, as in KFP", cfg: `{"genericEphemeralVolume": [{"volumeName": "v", "mountPath": "/v", "accessModes": ["ReadWriteOncePod"], "size": "1Gi"}]}`,
			want: `{"volumes": [{"name": "v", "ephemeral": {"volumeClaimTemplate": {"metadata": {"creationTimestamp": null},
					"spec": {"accessModes": ["ReadWriteOncePod"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": ""}}}}],
				"mounts": [{"name": "v", "mountPath": "/v"}]}`},
		{name: "bad size", cfg: `{"genericEphemeralVolume": [{"volumeName": "v", "mountPath": "/v", "accessModes": ["ReadWriteOnce"], "size": "5 GB"}]}`,
			err: `kubernetes_config.genericEphemeralVolume[0].size: "5 GB": quantities must match`},
		{name: "no size", cfg: `{"genericEphemeralVolume": [{"volumeName": "v", "mountPath": "/v", "accessModes": ["ReadWriteOnce"]}]}`,
			err: "genericEphemeralVolume[0].size: is required"},
		{name: "unknown access mode", cfg: `{"genericEphemeralVolume": [{"volumeName": "v", "mountPath": "/v", "accessModes": ["ReadWriteSometimes"], "size": "1Gi"}]}`,
			err: `genericEphemeralVolume[0].accessModes[0]: unknown access mode "ReadWriteSometimes"`},
		{name: "no access mode", cfg: `{"genericEphemeralVolume": [{"volumeName": "v", "mountPath": "/v", "size": "1Gi"}]}`,
			err: "genericEphemeralVolume[0].accessModes: at least one access mode is required"},
		{name: "bad volume name", cfg: `{"genericEphemeralVolume": [{"volumeName": "V", "mountPath": "/v", "accessModes": ["ReadWriteOnce"], "size": "1Gi"}]}`,
			err: `genericEphemeralVolume[0].volumeName: volume name "V"`},
	})
}

func TestEmptyDirs(t *testing.T) {
	runCases(t, []applyCase{
		{name: "plain", cfg: `{"emptyDirMounts": [{"volumeName": "tmp", "mountPath": "/tmp"}]}`,
			want: `{"volumes": [{"name": "tmp", "emptyDir": {}}], "mounts": [{"name": "tmp", "mountPath": "/tmp"}]}`, sum: "1 empty dir"},
		{name: "medium and canonical size", cfg: `{"emptyDirMounts": [{"volumeName": "a", "mountPath": "/a", "medium": "Memory", "sizeLimit": "0.65G"},
				{"volumeName": "b", "mountPath": "/b", "sizeLimit": ""}]}`,
			want: `{"volumes": [{"name": "a", "emptyDir": {"medium": "Memory", "sizeLimit": "650M"}}, {"name": "b", "emptyDir": {}}],
				"mounts": [{"name": "a", "mountPath": "/a"}, {"name": "b", "mountPath": "/b"}]}`, sum: "2 empty dirs"},
		{name: "bad size", cfg: `{"emptyDirMounts": [{"volumeName": "a", "mountPath": "/a", "sizeLimit": "lots"}]}`,
			err: `kubernetes_config.emptyDirMounts[0].sizeLimit: "lots": quantities must match the regular expression`},
		{name: "negative size", cfg: `{"emptyDirMounts": [{"volumeName": "a", "mountPath": "/a", "sizeLimit": "-1Gi"}]}`,
			err: `emptyDirMounts[0].sizeLimit: "-1Gi": must not be negative`},
		{name: "bad medium", cfg: `{"emptyDirMounts": [{"volumeName": "a", "mountPath": "/a", "medium": "Disk"}]}`,
			err: `emptyDirMounts[0].medium: unknown medium "Disk"`},
		{name: "no name", cfg: `{"emptyDirMounts": [{"mountPath": "/a"}]}`, err: "emptyDirMounts[0].volumeName: the volume name is empty"},
		{name: "no mount path", cfg: `{"emptyDirMounts": [{"volumeName": "a"}]}`, err: "emptyDirMounts[0].mountPath: is required"},
	})
}

func TestSharedMemory(t *testing.T) {
	runCases(t, []applyCase{
		{name: "default name", cfg: `{"enabledSharedMemory": {"size": "2Gi"}}`,
			want: `{"volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}], "mounts": [{"name": "dshm", "mountPath": "/dev/shm"}]}`,
			sum:  "shared memory at /dev/shm"},
		{name: "named, unlimited", cfg: `{"enabledSharedMemory": {"volumeName": "shm"}}`,
			want: `{"volumes": [{"name": "shm", "emptyDir": {"medium": "Memory"}}], "mounts": [{"name": "shm", "mountPath": "/dev/shm"}]}`},
		{name: "bad size", cfg: `{"enabledSharedMemory": {"size": "big"}}`, err: `enabledSharedMemory.size: "big"`},
	})
}

// The container driver may already have put volumes and mounts in the
// patch (workspace, modelcar); the config merges with them.
func TestMergeWithExistingPatch(t *testing.T) {
	existing := func() *corev1.PodSpec {
		s := baseSpec()
		s.Volumes = []corev1.Volume{{Name: "kfp-workspace", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "run-kfp-workspace"}}}}
		s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "kfp-workspace", MountPath: "/kfp-workspace"}}
		s.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
		return s
	}
	runCases(t, []applyCase{
		{name: "appended after", spec: existing, cfg: `{"emptyDirMounts": [{"volumeName": "tmp", "mountPath": "/tmp"}], "fieldPathAsEnv": [{"name": "B", "fieldPath": "metadata.name"}]}`,
			want: `{"volumes": [{"name": "kfp-workspace", "persistentVolumeClaim": {"claimName": "run-kfp-workspace"}}, {"name": "tmp", "emptyDir": {}}],
				"mounts": [{"name": "kfp-workspace", "mountPath": "/kfp-workspace"}, {"name": "tmp", "mountPath": "/tmp"}],
				"env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}`},
		{name: "same volume name, other source", spec: existing, cfg: `{"emptyDirMounts": [{"volumeName": "kfp-workspace", "mountPath": "/w"}]}`,
			err: `emptyDirMounts[0].volumeName: volume "kfp-workspace" is already defined in the pod with a different source`},
		{name: "mount path taken", spec: existing, cfg: `{"emptyDirMounts": [{"volumeName": "w", "mountPath": "/kfp-workspace"}]}`,
			err: `emptyDirMounts[0].mountPath: mount path /kfp-workspace is already used by volume "kfp-workspace"`},
		{name: "secret and config map of one name", cfg: `{"secretAsVolume": [{"secretName": "conf", "mountPath": "/s"}], "configMapAsVolume": [{"configMapName": "conf", "mountPath": "/c"}]}`,
			err: `configMapAsVolume[0]: volume "conf" is already defined in the pod with a different source`},
		{name: "no main container", spec: func() *corev1.PodSpec { return &corev1.PodSpec{Containers: []corev1.Container{{Name: "other"}}} },
			cfg: `{}`, err: "no container named main"},
	})
}
