package platform

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestInitContainers(t *testing.T) {
	vol := `{"emptyDirMounts": [{"volumeName": "shared", "mountPath": "/shared"}], `
	hardened := `"securityContext": {"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": false, "seccompProfile": {"type": "RuntimeDefault"}}`
	volView := `"volumes": [{"name": "shared", "emptyDir": {}}], "mounts": [{"name": "shared", "mountPath": "/shared"}], `
	withSidecar := func() *corev1.PodSpec {
		s := baseSpec()
		s.InitContainers = []corev1.Container{{Name: "oci-prepull-0", Image: "model"}}
		return s
	}
	runCases(t, []applyCase{
		{name: "native sidecar with resources", cfg: vol + `"initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always",
				"resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "0.5Gi"}},
				"volumeMounts": [{"volumeName": "shared", "mountPath": "/shared"}]}]}`,
			want: `{` + volView + `"initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always",
				"resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi"}},
				"volumeMounts": [{"name": "shared", "mountPath": "/shared"}], ` + hardened + `}]}`,
			sum: "1 empty dir; 1 init container"},
		{name: "admin identity", cfg: `{"initContainers": [{"name": "prep", "image": "busybox"}]}`, opts: Options{DefaultRunAsUser: ptr(int64(1000)), DefaultRunAsNonRoot: ptr(true)},
			want: `{"securityContext": {"runAsUser": 1000, "runAsNonRoot": true}, "initContainers": [{"name": "prep", "image": "busybox", "resources": {},
				"securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsUser": 1000, "runAsNonRoot": true, "allowPrivilegeEscalation": false, "seccompProfile": {"type": "RuntimeDefault"}}}]}`},
		{name: "no name", cfg: `{"initContainers": [{"image": "busybox"}]}`, err: "initContainers[0].name: is required"},
		{name: "bad name", cfg: `{"initContainers": [{"name": "Prep_1", "image": "busybox"}]}`, err: `initContainers[0].name: "Prep_1"`},
		{name: "reserved launcher name", cfg: `{"initContainers": [{"name": "kfp-launcher", "image": "busybox"}]}`,
			err: `initContainers[0].name: "kfp-launcher" is reserved for KFP's launcher init container`},
		{name: "reserved Argo name", cfg: `{"initContainers": [{"name": "wait", "image": "busybox"}]}`, err: `"wait" is reserved for Argo's wait container`},
		{name: "duplicate of the patch", spec: withSidecar, cfg: `{"initContainers": [{"name": "oci-prepull-0", "image": "busybox"}]}`,
			err: `initContainers[0].name: "oci-prepull-0" is already used by another container`},
		{name: "duplicate within the config", cfg: `{"initContainers": [{"name": "a", "image": "busybox"}, {"name": "a", "image": "busybox"}]}`,
			err: `initContainers[1].name: "a" is already used`},
		{name: "no image", cfg: `{"initContainers": [{"name": "a"}]}`, err: "initContainers[0].image: is required"},
		{name: "restart policy", cfg: `{"initContainers": [{"name": "a", "image": "b", "restartPolicy": "OnFailure"}]}`,
			err: `initContainers[0].restartPolicy: unsupported value "OnFailure": only Always`},
		{name: "bad quantity", cfg: `{"initContainers": [{"name": "a", "image": "b", "resources": {"limits": {"cpu": "two"}}}]}`,
			err: `initContainers[0].resources.limits[cpu]: "two": quantities must match`},
		{name: "bad resource name", cfg: `{"initContainers": [{"name": "a", "image": "b", "resources": {"requests": {"my gpu": "1"}}}]}`,
			err: `initContainers[0].resources.requests: resource name "my gpu"`},
		{name: "env without name", cfg: `{"initContainers": [{"name": "a", "image": "b", "env": [{"value": "v"}]}]}`, err: "initContainers[0].env[0].name: is required"},
		{name: "mount without volume", cfg: `{"initContainers": [{"name": "a", "image": "b", "volumeMounts": [{"mountPath": "/x"}]}]}`,
			err: "initContainers[0].volumeMounts[0].volumeName: is required"},
		{name: "mount of an unknown volume", cfg: `{"initContainers": [{"name": "a", "image": "b", "volumeMounts": [{"volumeName": "nope", "mountPath": "/x"}]}]}`,
			err: `initContainers[0].volumeMounts[0].volumeName: no volume "nope" is defined by this config`},
		{name: "relative mount path", cfg: vol + `"initContainers": [{"name": "a", "image": "b", "volumeMounts": [{"volumeName": "shared", "mountPath": "x"}]}]}`,
			err: `initContainers[0].volumeMounts[0].mountPath: "x" must be an absolute path`},
	})
}
