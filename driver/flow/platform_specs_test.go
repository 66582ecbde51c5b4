package flow_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// platformSummaries is what each task's node message must name of its
// kfp-kubernetes config, per snapshot spec (the same summaries the platform
// package's own tests expect); %s is the PVC createpvc made.
var platformSummaries = map[string]map[string]string{
	"config_map_as_env.yaml":                                 {"comp": "1 config map as env"},
	"config_map_as_vol.yaml":                                 {"comp": "1 config map as volume"},
	"create_mount_delete_dynamic_pvc.yaml":                   {"producer": `mounted pvc "%s" at /data`, "consumer": `mounted pvc "%s" at /data`},
	"create_mount_delete_existing_pvc.yaml":                  {"comp": `mounted pvc "%s" at /data`},
	"create_mount_delete_existing_pvc_from_task_output.yaml": {"comp": `mounted pvc "%s" at /data`, "get-pvc-name": ""},
	"empty_dir_mounts.yaml":                                  {"comp": "1 empty dir"},
	"field_path_as_env.yaml":                                 {"comp": "1 field path env var"},
	"general_ephemeral_volume.yaml":                          {"comp": "1 ephemeral volume"},
	"image_pull_secrets.yaml":                                {"comp": "1 image pull secret"},
	"init_container.yaml":                                    {"print-greeting": "1 empty dir; 1 init container"},
	"node_selector.yaml":                                     {"comp": "node selector"},
	"nodeaffinity.yaml": {
		"print-hello-with-empty-json": "", "print-hello-with-json-affinity": "node affinity",
		"print-hello-with-json-affinity-2": "node affinity", "print-hello-with-preferred-affinity": "node affinity",
	},
	"secret_as_env.yaml":    {"comp": "1 secret as env"},
	"secret_as_vol.yaml":    {"comp": "1 secret as volume"},
	"security_context.yaml": {"print-greeting": "security context"},
	"timeout.yaml":          {"comp": "timeout 20s"},
	"toleration.yaml":       {"comp": "1 toleration"},
}

// pvcFromTaskOutput is the name get-pvc-name returns in
// create_mount_delete_existing_pvc_from_task_output.yaml.
const pvcFromTaskOutput = "kfp-pvc-from-task-output"

// platformSpecFiles lists the 17 snapshot specs.
func platformSpecFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(platformSpecDir, "*.yaml"))
	if err != nil || len(files) != 17 {
		t.Fatalf("found %d snapshot specs (%v), want 17", len(files), err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
		if _, ok := platformSummaries[files[i]]; !ok {
			t.Fatalf("%s: no expectations", files[i])
		}
	}
	return files
}

// walkPlatformSpec runs one snapshot spec through the driver (every call
// twice) in namespace. Caching is off: most specs share the pipeline name
// and a task "comp", and a cache hit would build no pod spec patch.
func walkPlatformSpec(t *testing.T, env *drivertest.Env, namespace, file string) *drivertest.Trace {
	t.Helper()
	p := platformSpec(t, file)
	w := env.Walker(p, strings.TrimSuffix(strings.ReplaceAll(file, "_", "-"), ".yaml"))
	w.Base.Namespace = namespace
	w.Base.Options.CacheDisabled = true
	w.Repeat = true
	w.Produce = func(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value {
		if task == "get-pvc-name" {
			return structpb.NewStringValue(pvcFromTaskOutput)
		}
		return drivertest.Produce(task, def, name)
	}
	trace, err := w.Run(context.Background(), p)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return trace
}

// checkMessages: every task that ran names what its kfp-kubernetes config
// applied at the end of its node message, and all expected tasks ran.
func checkMessages(t *testing.T, env *drivertest.Env, file string, trace *drivertest.Trace) {
	t.Helper()
	want := platformSummaries[file]
	seen := 0
	for _, s := range trace.Steps {
		if s.Launch == nil {
			continue
		}
		sum, ok := want[s.Task]
		if !ok {
			t.Errorf("%s: task %s ran, no expectation", file, s.Task)
			continue
		}
		seen++
		if strings.Contains(sum, "%s") {
			sum = fmt.Sprintf(sum, createdPVC(t, env, trace))
		}
		msg := s.Result.Message
		if sum == "" && strings.Contains(msg, ";") || sum != "" && !strings.HasSuffix(msg, "; "+sum) {
			t.Errorf("%s: task %s message %q, want it to end with the summary %q", file, s.Task, msg, sum)
		}
	}
	if seen != len(want) {
		t.Errorf("%s: %d tasks ran, want %d", file, seen, len(want))
	}
}

// createdPVC is the name createpvc published in MLMD.
func createdPVC(t *testing.T, env *drivertest.Env, trace *drivertest.Trace) string {
	t.Helper()
	exec, err := env.MLMD.ExecutionByID(context.Background(), only(t, trace, "createpvc").Result.ExecutionID)
	if err != nil {
		t.Fatal(err)
	}
	return exec.Outputs()["name"].GetStringValue()
}

// TestPlatformSpecMessages drives the 17 snapshot specs through the driver
// (Kubernetes API faked) and checks that each CONTAINER node message names
// what the platform config applied.
func TestPlatformSpecMessages(t *testing.T) {
	env := drivertest.NewEnv(t)
	for _, file := range platformSpecFiles(t) {
		t.Run(file, func(t *testing.T) {
			checkMessages(t, env, file, walkPlatformSpec(t, env, drivertest.Namespace, file))
		})
	}
}
