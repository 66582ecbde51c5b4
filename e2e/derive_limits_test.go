package e2e

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// The corpus's only tasks with CPU and memory limits also ask for a GPU,
// which this node cannot schedule, and none mounts an empty dir or asks
// for shared memory. deriveLimits takes
// local_execution_pipeline_with_k8s_only_methods.yaml (one task, limits
// 1000m CPU and 256Mi memory, one nvidia.com/gpu), drops the GPU, and gives
// the task a kfp-kubernetes empty dir at /scratch and 128Mi of shared
// memory, as the platform spec carries them (emptyDirMounts,
// enabledSharedMemory). Derived, not compiled by KFP: the case says so.
const limitsSource = "local_execution_pipeline_with_k8s_only_methods.yaml"

const (
	limitsTask      = "echo"
	limitsCPUMillis = 1000
	limitsMemory    = 256 << 20
	shmSizeLimit    = 128 << 20
)

var limitsKubernetesConfig = map[string]any{
	"emptyDirMounts":      []any{map[string]any{"volumeName": "scratch", "mountPath": "/scratch"}},
	"enabledSharedMemory": map[string]any{"volumeName": "shm", "size": "128Mi"},
}

func deriveLimits(dir string) (string, error) {
	return derive(dir, limitsSource, "limits_and_empty_dirs", func(spec map[string]any) error {
		if err := dropAccelerator(spec); err != nil {
			return err
		}
		args := spec["arguments"].(map[string]any)
		args["parameters"] = append(args["parameters"].([]any),
			map[string]any{"name": "kubernetes-comp-echo", "value": mustJSON(limitsKubernetesConfig)})
		return passKubernetesConfig(spec, limitsTask+"-driver", "{{workflow.parameters.kubernetes-comp-echo}}")
	})
}

// dropAccelerator removes the GPU from every implementation's resources.
func dropAccelerator(spec map[string]any) error {
	found := false
	for _, p := range spec["arguments"].(map[string]any)["parameters"].([]any) {
		p := p.(map[string]any)
		if !strings.HasPrefix(p["name"].(string), "implementations-") {
			continue
		}
		var impl map[string]any
		if err := yaml.Unmarshal([]byte(p["value"].(string)), &impl); err != nil {
			return err
		}
		if res, ok := impl["resources"].(map[string]any); ok {
			delete(res, "accelerator")
			found = true
		}
		p["value"] = mustJSON(impl)
	}
	if !found {
		return fmt.Errorf("%s: no implementation with resources", limitsSource)
	}
	return nil
}

// passKubernetesConfig adds the kubernetes-config argument to the driver
// task named task, as the compiler does for tasks with a platform spec.
func passKubernetesConfig(spec map[string]any, task, value string) error {
	for _, t := range spec["templates"].([]any) {
		dag, ok := t.(map[string]any)["dag"].(map[string]any)
		if !ok {
			continue
		}
		for _, dt := range dag["tasks"].([]any) {
			dt := dt.(map[string]any)
			if dt["name"] != task {
				continue
			}
			a := dt["arguments"].(map[string]any)
			a["parameters"] = append(a["parameters"].([]any), map[string]any{"name": "kubernetes-config", "value": value})
			return nil
		}
	}
	return fmt.Errorf("%s: no driver task %s", limitsSource, task)
}

// limitsCase runs the derived workflow and checks, from inside the
// container, the cgroup limits and both empty dirs.
func limitsCase(dir string) (tcase, error) {
	path, err := deriveLimits(dir)
	if err != nil {
		return tcase{}, err
	}
	return tcase{file: path, params: map[string]any{"message": "hello"}, checks: []check{
		limitsSeen(limitsTask, limitsCPUMillis, limitsMemory),
		mountSeen(limitsTask, "/scratch", ""),
		mountSeen(limitsTask, "/dev/shm", "tmpfs"),
		shmSeen(limitsTask, shmSizeLimit),
	}}, nil
}
