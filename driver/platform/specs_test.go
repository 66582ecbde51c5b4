package platform

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"
)

// executorConfigs reads the platforms.kubernetes document of a pipeline spec
// file and returns each executor's config as JSON.
func executorConfigs(t *testing.T, file string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var d struct {
			Platforms struct {
				Kubernetes struct {
					DeploymentSpec struct {
						Executors map[string]json.RawMessage `json:"executors"`
					} `json:"deploymentSpec"`
				} `json:"kubernetes"`
			} `json:"platforms"`
		}
		if err := yaml.Unmarshal(doc, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if ex := d.Platforms.Kubernetes.DeploymentSpec.Executors; ex != nil {
			return ex
		}
	}
	t.Fatalf("%s: no platforms.kubernetes document", file)
	return nil
}

// createpvcOutput stands for the upstream createpvc task of the PVC specs.
var createpvcOutput = MapInputs{Outputs: map[string]map[string]*structpb.Value{
	"createpvc": {"name": structpb.NewStringValue("pvc-0a1b2c")},
}}

const pvcView = `{
	"volumes": [{"name": "pvc-0a1b2c", "persistentVolumeClaim": {"claimName": "pvc-0a1b2c"}}],
	"mounts": [{"name": "pvc-0a1b2c", "mountPath": "/data"}]}`

// specCases holds, per file and executor, the expected patch and summary.
var specCases = map[string]map[string]struct {
	in   Inputs
	want string
	sum  string
}{
	"config_map_as_env.yaml": {"exec-comp": {
		want: `{"env": [{"name": "CONFIG_MAP_VAR", "valueFrom": {"configMapKeyRef": {"name": "my-cm", "key": "foo", "optional": false}}}]}`,
		sum:  "1 config map as env",
	}},
	"config_map_as_vol.yaml": {"exec-comp": {
		want: `{"volumes": [{"name": "my-cm", "configMap": {"name": "my-cm", "optional": false}}],
			"mounts": [{"name": "my-cm", "mountPath": "/mnt/my_vol"}]}`,
		sum: "1 config map as volume",
	}},
	"create_mount_delete_dynamic_pvc.yaml": {
		"exec-consumer": {in: createpvcOutput, want: pvcView, sum: `mounted pvc "pvc-0a1b2c" at /data`},
		"exec-producer": {in: createpvcOutput, want: pvcView, sum: `mounted pvc "pvc-0a1b2c" at /data`},
	},
	"create_mount_delete_existing_pvc.yaml": {
		"exec-comp": {in: createpvcOutput, want: pvcView, sum: `mounted pvc "pvc-0a1b2c" at /data`},
	},
	"create_mount_delete_existing_pvc_from_task_output.yaml": {
		"exec-comp": {in: createpvcOutput, want: pvcView, sum: `mounted pvc "pvc-0a1b2c" at /data`},
	},
	"empty_dir_mounts.yaml": {"exec-comp": {
		want: `{"volumes": [{"name": "emptydir-vol-1", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}],
			"mounts": [{"name": "emptydir-vol-1", "mountPath": "/mnt/my_vol_1"}]}`,
		sum: "1 empty dir",
	}},
	"field_path_as_env.yaml": {"exec-comp": {
		want: `{"env": [{"name": "KFP_RUN_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['pipelines.kubeflow.org/run_name']"}}}]}`,
		sum:  "1 field path env var",
	}},
	"general_ephemeral_volume.yaml": {"exec-comp": {
		want: `{"volumes": [{"name": "pvc-name", "ephemeral": {"volumeClaimTemplate": {
				"metadata": {"creationTimestamp": null, "annotations": {"annotation1": "a1"}},
				"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}}}}],
			"mounts": [{"name": "pvc-name", "mountPath": "path"}]}`,
		sum: "1 ephemeral volume",
	}},
	"image_pull_secrets.yaml": {"exec-comp": {
		want: `{"imagePullSecrets": [{"name": "my-secret"}]}`,
		sum:  "1 image pull secret",
	}},
	"init_container.yaml": {"exec-print-greeting": {
		want: `{"volumes": [{"name": "shared-data", "emptyDir": {}}],
			"mounts": [{"name": "shared-data", "mountPath": "/data"}],
			"initContainers": [{"name": "prepare-data", "image": "busybox:1.36",
				"command": ["sh", "-c"], "args": ["echo ready > /data/marker"],
				"env": [{"name": "MARKER_TEXT", "value": "ready"}], "resources": {},
				"volumeMounts": [{"name": "shared-data", "mountPath": "/data"}],
				"securityContext": {"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": false,
					"seccompProfile": {"type": "RuntimeDefault"}}}]}`,
		sum: "1 empty dir; 1 init container",
	}},
	"node_selector.yaml": {"exec-comp": {
		want: `{"nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-tesla-p4"}}`,
		sum:  "node selector",
	}},
	"nodeaffinity.yaml": {
		"exec-print-hello-with-empty-json": {want: `{}`},
		"exec-print-hello-with-json-affinity": {
			want: `{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
				{"weight": 100, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}}]}}}`,
			sum: "node affinity",
		},
		"exec-print-hello-with-json-affinity-2": {
			want: `{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
				{"weight": 100, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["us-west-1"]}]}},
				{"weight": 50, "preference": {"matchExpressions": [{"key": "instance-type", "operator": "In", "values": ["n1-standard-4"]}]}}]}}}`,
			sum: "node affinity",
		},
		"exec-print-hello-with-preferred-affinity": {
			want: `{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
				{"weight": 50, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["us-west-1"]}]}}]}}}`,
			sum: "node affinity",
		},
	},
	"secret_as_env.yaml": {"exec-comp": {
		want: `{"env": [{"name": "SECRET_VAR", "valueFrom": {"secretKeyRef": {"name": "my-secret", "key": "password", "optional": false}}}]}`,
		sum:  "1 secret as env",
	}},
	"secret_as_vol.yaml": {"exec-comp": {
		want: `{"volumes": [{"name": "my-secret", "secret": {"secretName": "my-secret", "optional": false}}],
			"mounts": [{"name": "my-secret", "mountPath": "/mnt/my_vol"}]}`,
		sum: "1 secret as volume",
	}},
	"security_context.yaml": {"exec-print-greeting": {
		want: `{"securityContext": {"runAsUser": 65534, "runAsGroup": 0, "capabilities": {"drop": ["ALL"]}}}`,
		sum:  "security context",
	}},
	"timeout.yaml": {"exec-comp": {
		want: `{"activeDeadlineSeconds": 20}`,
		sum:  "timeout 20s",
	}},
	"toleration.yaml": {"exec-comp": {
		want: `{"tolerations": [{"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoExecute", "tolerationSeconds": 10}]}`,
		sum:  "1 toleration",
	}},
}

// TestKubernetesPlatformSpecs drives every executor config of the 17 KFP
// snapshot specs through Apply, the way the plugin hands it over (the typed
// config decoded leniently, plus the raw JSON), and checks the patch.
func TestKubernetesPlatformSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/kubernetes-platform-specs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 17 {
		t.Fatalf("found %d spec files, want 17", len(files))
	}
	for _, file := range files {
		base := filepath.Base(file)
		cases, ok := specCases[base]
		if !ok {
			t.Errorf("%s: no expectations", base)
			continue
		}
		configs := executorConfigs(t, file)
		for _, exec := range slices.Sorted(maps.Keys(configs)) {
			tc, ok := cases[exec]
			if !ok {
				t.Errorf("%s: no expectations for %s", base, exec)
				continue
			}
			t.Run(strings.TrimSuffix(base, ".yaml")+"/"+exec, func(t *testing.T) {
				raw := configs[exec]
				cfg := &kubernetesplatform.KubernetesExecutorConfig{}
				if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, cfg); err != nil {
					t.Fatalf("typed decode: %v", err)
				}
				spec := baseSpec()
				sum, err := Apply(spec, cfg, raw, tc.in, Options{})
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				assertView(t, spec, tc.want)
				if got := sum.String(); got != tc.sum {
					t.Errorf("summary %q, want %q", got, tc.sum)
				}
				checkPodLocally(t, PodFor(spec))
			})
		}
	}
}

// TestCompiledWorkflowConfigs runs the kubernetes_config values of KFP's
// compiled workflows (extracted verbatim) through Apply. Component inputs
// named optional_* are unset optional pipeline inputs (null); others
// resolve to a name.
func TestCompiledWorkflowConfigs(t *testing.T) {
	data, err := os.ReadFile("testdata/compiled-workflow-configs.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		File      string `json:"file"`
		Parameter string `json:"parameter"`
		Config    string `json:"kubernetes_config"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	in := InputsFunc(func(p *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
		if strings.HasPrefix(p.GetComponentInputParameter(), "optional_") {
			return structpb.NewNullValue(), nil
		}
		return structpb.NewStringValue("resolved-name"), nil
	})
	want := map[string]string{
		"create_pod_metadata_complex.yaml/kubernetes-comp-validate-pod-metadata":       "3 field path env vars",
		"create_pod_metadata_complex.yaml/kubernetes-comp-validate-pod-metadata-2":     "2 field path env vars",
		"nested_parallel_for_secret.yaml/kubernetes-comp-worker-component":             "1 secret as env",
		"nvidia_gpu_scheduling_check.yaml/kubernetes-comp-verify-gpu-scheduled":        "1 toleration",
		"parallel_for_mount_pvc.yaml/kubernetes-comp-example-component":                `mounted pvc "resolved-name" at /data`,
		"parallel_for_secret.yaml/kubernetes-comp-example-component":                   "1 secret as env",
		"pipeline_with_pod_metadata.yaml/kubernetes-comp-validate-no-pod-metadata":     "4 field path env vars",
		"pipeline_with_pod_metadata.yaml/kubernetes-comp-validate-pod-metadata-task-b": "7 field path env vars",
		"pipeline_with_pod_metadata.yaml/kubernetes-comp-validate-pod-metadata-task-d": "3 field path env vars",
		"pipeline_with_secret_as_env.yaml/kubernetes-comp-comp":                        "3 secrets as env",
		"pipeline_with_secret_as_volume.yaml/kubernetes-comp-comp":                     "1 secret as volume",
		"pipeline_with_volume.yaml/kubernetes-comp-consumer":                           `mounted pvc "resolved-name" at /data`,
		"pvc_mount.yaml/kubernetes-comp-consumer":                                      `mounted pvc "resolved-name" at /data`,
		"missing_kubernetes_optional_inputs.yaml/kubernetes-comp-log-message": "skipped 8 entries with null input (" +
			"nodeSelector, tolerations[0], secretAsVolume[0], secretAsEnv[0], configMapAsVolume[0], configMapAsEnv[0], imagePullSecret[0], nodeAffinity[0])",
	}
	var seen []string
	for _, e := range entries {
		key := e.File + "/" + e.Parameter
		seen = append(seen, key)
		t.Run(key, func(t *testing.T) {
			spec := baseSpec()
			sum, err := Apply(spec, nil, []byte(e.Config), in, Options{})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := sum.String(); got != want[key] {
				t.Errorf("summary %q, want %q", got, want[key])
			}
			checkPodLocally(t, PodFor(spec))
		})
	}
	sort.Strings(seen)
	if len(seen) != len(want) {
		t.Errorf("tested %v, expectations for %d configs", seen, len(want))
	}
}
