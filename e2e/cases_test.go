package e2e

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The played user code mirrors what the real components return (read from
// their source in the compiled workflow) where a check depends on it;
// everything else returns DefaultOutput.
var (
	listDicts = []any{map[string]any{"a": 1, "b": 2}, map[string]any{"a": 2, "b": 3}, map[string]any{"a": 3, "b": 4}}
	abStructs = []any{map[string]any{"A_a": "1", "B_b": "2"}, map[string]any{"A_a": "10", "B_b": "20"}}
	abLists   = []any{map[string]any{"A_a": "1", "B_b": []any{"2", "20"}}, map[string]any{"A_a": "10", "B_b": []any{"22", "222"}}}
)

// corpusCases are the compiled workflows run end to end. Each checks
// values resolved downstream: what a later task's driver put in its
// executor input (pod spec patch), or what the executor pod Argo created
// from that patch carries.
var corpusCases = []tcase{
	// --- parameters
	{file: "hello_world.yaml", covers: "one container task; the patch's image reaches the executor pod",
		checks: []check{ran("echo", 1), driverMessage("echo-driver", "cache miss"),
			mainImage("echo", "registry.access.redhat.com/ubi9/python-311:latest")}},
	{file: "add_numbers.yaml", covers: "required pipeline parameters from the run's runtime config",
		params: map[string]any{"a": 1, "b": 2},
		checks: []check{param("add-numbers", "a", 1), param("add-numbers", "b", 2)}},
	{file: "producer_consumer_param_pipeline.yaml", covers: "parameter from pipeline input, then from an upstream task",
		b:      Behaviour{Produce: rules{"producer": prefix("produced from ", "input_text")}.produce()},
		checks: []check{param("producer", "input_text", "Hello world"), param("consumer", "input_value", "produced from Hello world")}},
	{file: "mixed_parameters.yaml", covers: "constant and an output surfaced through two nested DAG levels",
		b:      Behaviour{Produce: rules{"core-comp": 41}.produce()},
		checks: []check{param("crust-comp", "x", 2), param("crust-comp", "y", 41)}},
	{file: "multiple_parameters_namedtuple.yaml", covers: "two outputs of one task through nested DAG outputs",
		checks: []check{param("crust-comp", "val1", "core-comp.val1"), param("crust-comp", "val2", "core-comp.val2")}},
	{file: "pipeline_with_params_containing_format.yaml", covers: "f-strings: the values their placeholders name are resolved next to them, in and out of a loop",
		b: Behaviour{Produce: rules{"print-op": "Hello KFP"}.produce()},
		checks: []check{param("print-op", "pipelinechannel--name", "KFP"), param("print-op-2", "pipelinechannel--print-op-Output", "Hello KFP"),
			paramValues("print-op2", "text1", "1", "2"), param("print-op2", "pipelinechannel--name", "KFP")}},
	{file: "pipeline_with_placeholders.yaml", covers: "run placeholders ($.pipeline_job_resource_name, $.pipeline_job_uuid, $.pipeline_task_name)",
		checks: []check{custom(func(r *Result) error {
			if err := param("print-all-placeholders", "job_resource_name", r.Workflow.Name)(r); err != nil {
				return err
			}
			return param("print-all-placeholders", "job_id", string(r.Workflow.UID))(r)
		}), param("print-all-placeholders", "task_name", "print-all-placeholders")}},
	{file: "lightweight_python_functions_pipeline.yaml", covers: "typed outputs (bool, dict, list, string) and two artifacts into the next task",
		params: map[string]any{"message": "hello"},
		b:      Behaviour{Produce: rules{"preprocess.output_parameter_path": echo("message")}.produce()},
		checks: []check{param("preprocess", "input_dict_parameter", map[string]any{"A": 1, "B": 2}),
			param("train", "message", "hello"), param("train", "input_bool", true), param("train", "input_list", []any{"a", "b", "c"}),
			param("train", "input_dict", map[string]any{"task": "preprocess", "key": "output_dict_parameter_path"}),
			artifactFrom("train", "dataset_one_path", "preprocess", "output_dataset_one"),
			artifactFrom("train", "dataset_two", "preprocess", "output_dataset_two_path")}},
	// --- artifacts
	{file: "two_step_pipeline.yaml", covers: "artifact passed between tasks, provisioned under the namespace's pipeline root",
		checks: []check{param("write-to-gcs", "text", "Hello KFP!"), outputUnderRoot("write-to-gcs", "output_gcs_path"),
			artifactFrom("read-from-gcs", "input_gcs_path", "write-to-gcs", "output_gcs_path")}},
	{file: "iris_pipeline_compiled.yaml", covers: "artifact chain over three tasks with parameters",
		checks: []check{param("normalize-dataset", "standard_scaler", true), param("train-model", "n_neighbors", 3),
			artifactFrom("normalize-dataset", "input_iris_dataset", "create-dataset", "iris_dataset"),
			artifactFrom("train-model", "normalized_iris_dataset", "normalize-dataset", "normalized_iris_dataset")}},
	{file: "multiple_artifacts_namedtuple.yaml", covers: "two artifacts surfaced through nested DAG outputs",
		checks: []check{artifactFrom("crust-comp", "ds1", "core-comp", "ds1"), artifactFrom("crust-comp", "ds2", "core-comp", "ds2")}},
	{file: "pipeline_with_artifact_custom_path.yaml", covers: "artifact with a custom path",
		checks: []check{artifactFrom("validate-input-artifact", "in_dataset", "component-output-artifact", "out_dataset")}},
	{file: "pythonic_artifacts_test_pipeline.yaml", covers: "pythonic artifact return values",
		checks: []check{artifactFrom("train-model", "dataset", "gen-data", "Output")}},
	{file: "pipeline_with_importer.yaml", covers: "importer pods (launcher importer mode), importer inside a condition",
		b: Behaviour{Produce: rules{"train.scalar": "123"}.produce()},
		checks: []check{artifactURIs("train", "dataset", "gs://ml-pipeline-playground/shakespeare1.txt"),
			artifactURIs("train-2", "dataset", "gs://ml-pipeline-playground/shakespeare2.txt")}},
	// --- nested DAGs
	{file: "pipeline_in_pipeline.yaml", covers: "pipeline used as a component",
		b:      Behaviour{Produce: rules{"print-op1": echo("msg")}.produce()},
		checks: []check{paramValues("print-op1", "msg", "Hello", "world"), param("print-op2", "msg", "world")}},
	{file: "pipeline_with_outputs.yaml", covers: "inner pipeline's task output feeds its sibling",
		b:      Behaviour{Produce: rules{"print-op1": echo("msg")}.produce()},
		checks: []check{paramValues("print-op1", "msg", "Hello", "world"), param("print-op2", "msg", "world")}},
	{file: "pipeline_in_pipeline_complex.yaml", covers: "nested pipeline inside a loop, conditions on its task's output",
		b: Behaviour{Produce: rules{"print-op1": echo("msg")}.produce()},
		checks: []check{paramValues("print-op1", "msg", "Hello", "Hello", "world!"), ran("print-op2", 1), ran("print-op", 1),
			param("print-op2", "msg", "world"), param("print-op", "msg", "Bye!")}},
	{file: "nested_pipeline_opt_inputs_parent_level_compiled.yaml", covers: "pipeline inputs passed into nested pipelines",
		checks: []check{param("component-str-default", "componentInput", "Input - parent pipeline"),
			param("component-nil-int-default", "componentInput", 1), param("component-bool-default", "componentInput", true)}},
	{file: "nested_pipeline_opt_input_child_level_compiled.yaml", covers: "constants into a nested pipeline, child-level defaults",
		checks: []check{param("component-a-str", "componentInputStr", "Input - pipeline"), param("component-a-int", "componentInputInt", 1),
			ran("component-b-str", 1)}},
	// --- conditions
	{file: "flip_coin.yaml", covers: "nested conditions on upstream outputs; an f-string's value resolved next to it",
		b: Behaviour{Produce: rules{"flip-coin": "heads", "random-num": 7}.produce()},
		checks: []check{param("print-msg", "pipelinechannel--random-num-Output", 7),
			paramHas("print-msg", "msg", "heads and {{$.inputs.parameters['pipelinechannel--random-num-Output']}}"),
			ran("print-msg-2", 0), ran("random-num-2", 0),
			ran("print-msg-3", 0), ran("print-msg-4", 0)}},
	{file: "pipeline_with_condition.yaml", covers: "condition true: tasks inside it see outputs and pipeline inputs",
		b: Behaviour{Produce: rules{"flip-coin-op": "heads", "flip-coin-op-2": "tails"}.produce()},
		checks: []check{param("print-op", "msg", "heads"), param("print-op-2", "msg", "tails"),
			param("print-op-3", "msg", "condition test")}},
	{file: "pipeline_with_nested_conditions.yaml", covers: "condition comparing two task outputs, nested",
		b:      Behaviour{Produce: rules{"flip-coin-op-2": "heads", "flip-coin-op-3": "heads", "flip-coin-op-4": "tails"}.produce()},
		checks: []check{param("print-op-3", "msg", "heads"), param("print-op-4", "msg", "tails")}},
	{file: "if_else_with_oneof_parameters.yaml", covers: "if/else, oneOf output of the branches feeds the next task",
		b:      Behaviour{Produce: rules{"flip-coin": "heads", "print-and-return": echo("text")}.produce()},
		checks: []check{ran("print-and-return-2", 0), param("print-and-return-3", "text", "Got heads!")}},
	{file: "if_elif_else_with_oneof_parameters.yaml", covers: "if/elif/else, oneOf surfaced through a nested pipeline",
		b: Behaviour{Produce: rules{"flip-three-sided-die": "tails", "print-and-return-2": echo("text")}.produce()},
		checks: []check{ran("print-and-return-2", 1), ran("special-print-and-return", 0),
			param("print-and-return", "text", "Got tails!")}},
	{file: "if_else_with_oneof_artifacts.yaml", covers: "oneOf over artifacts, through a nested pipeline",
		b: Behaviour{Produce: rules{"flip-coin": "tails"}.produce()},
		checks: []check{ran("param-to-artifact", 0), param("param-to-artifact-2", "val", "tails"),
			artifactFrom("print-artifact", "a", "param-to-artifact-2", "a")}},
	{file: "parameter_oneof.yaml", covers: "oneOf parameter through three DAG levels",
		b:      Behaviour{Produce: rules{"flip-coin": "heads", "core-comp": echo("input")}.produce()},
		checks: []check{ran("core-output-comp", 0), param("crust-comp", "input", "Got heads!")}},
	{file: "if_elif_else_complex.yaml", covers: "if/elif/else in a loop, oneOf, drumroll on the last trial, collected ints",
		b: Behaviour{Produce: rules{"int-0-to-9999": 42, "is-even-or-odd": "even", "print-and-return-2": echo("text")}.produce()},
		checks: []check{param("print-and-return-4", "text", "Got a low even number!"), ran("print-and-return-3", 0),
			ran("print-and-return", 1), param("print-ints", "ints", []any{42, 42, 42}), ran("print-and-return-8", 0)}},
	{file: "conditional_producer_and_consumers.yaml", covers: "condition inside a loop, collecting only the iterations that ran",
		b:      Behaviour{Produce: rules{"double": double("num")}.produce()},
		checks: []check{paramValues("double", "num", 2, 3), param("add", "nums", []any{4, 6})}},
	// --- ParallelFor over parameters, collected outputs
	{file: "parameters_simple.yaml", covers: "loop over raw items, outputs collected into a list",
		b:      Behaviour{Produce: rules{"double": double("num")}.produce()},
		checks: []check{paramValues("double", "num", 1, 2, 3), param("add", "nums", []any{2, 4, 6}), param("add-container", "nums", []any{2, 4, 6})}},
	{file: "parameters_complex.yaml", covers: "nested loops, collection from an inner loop and from the outer loop",
		b: Behaviour{Produce: rules{"double": double("num"), "double-2": double("num")}.produce()},
		checks: []check{paramValues("double-2", "num", 4, 5, 6, 4, 5, 6, 4, 5, 6),
			paramValues("simple-add", "nums", []any{8, 10, 12}, []any{8, 10, 12}, []any{8, 10, 12}),
			param("simple-add-2", "nums", []any{2, 4, 6})}},
	{file: "nested_with_parameters.yaml", covers: "loop in a loop, both items used, results collected across both",
		b: Behaviour{Produce: rules{"double": double("num"), "double-2": double("num"), "add-two-nums": add("x", "y")}.produce()},
		checks: []check{paramValues("add-two-nums", "x", 2, 2, 2, 4, 4, 4, 6, 6, 6),
			param("add", "nums", []any{4, 6, 8, 6, 8, 10, 8, 10, 12})}},
	{file: "pipeline_with_loops.yaml", covers: "loops over a pipeline input, an upstream list of structs and raw structs; field selectors",
		params: map[string]any{"loop_parameter": []any{"a", "b"}},
		b:      Behaviour{Produce: rules{"args-generator-op": abStructs}.produce()},
		checks: []check{paramValues("print-text", "msg", "a", "b"), paramValues("print-text-2", "msg", "1", "10"),
			paramValues("print-text-3", "msg", "2", "20"), paramValues("print-struct", "struct", abStructs...)}},
	{file: "pipeline_with_nested_loops.yaml", covers: "loop over a sub-list of each item of a loop",
		checks: []check{paramValues("print-op", "msg", "1", "2", "11", "22"), paramValues("print-op-2", "msg", "1", "2"),
			ran("print-op-3", 6)}},
	{file: "parallel_for_after_dependency.yaml", covers: "tasks after a loop",
		checks: []check{ran("print-op", 3), param("print-op-2", "message", "bar"), param("print-op-3", "message", "baz")}},
	{file: "loop_consume_upstream.yaml", covers: "loop over an upstream list; artifact passed inside each iteration",
		b: Behaviour{Produce: rules{"split-input": split("input")}.produce()},
		checks: []check{paramValues("create-file", "content", "component1", "component2", "component3"),
			artifactFrom("read-file", "file", "create-file", "file"), param("print-input", "input", []any{"component1", "component2", "component3"})}},
	{file: "pipeline_with_parallelfor_parallelism.yaml", covers: "ParallelFor with parallelism over inputs, raw items and upstream lists of dicts",
		params: map[string]any{"loop_parameter": []any{"x", "y"}},
		b: Behaviour{Produce: rules{"list-dict-maker-0": listDicts, "list-dict-maker-1": listDicts, "list-dict-maker-2": listDicts,
			"list-dict-maker-3": listDicts, "list-dict-maker-1-2": listDicts}.produce()},
		checks: []check{paramValues("print-text", "msg", "x", "y"), ran("print-text-2", 4), paramValues("print-int-2", "x", 1, 2, 3)}},
	{file: "collected_parameters.yaml", covers: "outputs collected from a loop in a nested pipeline, surfaced as its output",
		b: Behaviour{Produce: rules{"split-ids": split("ids"), "prepend-id": prefix("model_", "content")}.produce()},
		checks: []check{paramValues("consume-single-id", "id", "model_s1", "model_s2", "model_s3"),
			paramValues("consume-ids", "ids", []any{"model_s1", "model_s2", "model_s3"}, []any{"model_s1", "model_s2", "model_s3"})}},
	{file: "pipeline_with_collected_artifacts.yaml", covers: "artifacts collected from a loop",
		checks: []check{paramValues("write-artifact", "index", 0, 1, 2), artifactCount("read-and-join", "artifacts", 3),
			artifactFrom("read-and-join", "artifacts", "write-artifact", "out")}},
	{file: "pythonic_artifacts_with_list_of_artifacts.yaml", covers: "loop over a pipeline input list, artifacts collected",
		checks: []check{paramValues("make-dataset", "text", "Hello", ",", " ", "world!"), artifactCount("join-datasets", "datasets", 4),
			artifactFrom("join-datasets", "datasets", "make-dataset", "Output")}},
	{file: "artifacts_simple.yaml", covers: "loop producing artifacts, collected into a list input",
		checks: []check{artifactCount("add", "in_datasets", 3), artifactFrom("add", "in_datasets", "double", "out_dataset"),
			artifactFrom("add-container", "in_datasets", "double", "out_dataset")}},
	{file: "artifacts_complex.yaml", covers: "artifacts collected from nested loops with a condition, passed into a nested pipeline",
		checks: []check{paramValues("double-2", "num", 2, 3, 2, 3, 2, 3), artifactCount("add", "in_datasets", 3),
			artifactFrom("add", "in_datasets", "double", "out_dataset"), artifactFrom("add-2", "in_datasets", "double-2", "out_dataset")}},
	{file: "collected_artifacts.yaml", covers: "artifacts collected from two loop levels and a single-task DAG",
		b: Behaviour{Produce: rules{"split-ids": split("model_ids"), "split-chars": split("model_ids")}.produce()},
		checks: []check{ran("create-dataset", 9), artifactFrom("read-single-dataset-generate-model", "data", "create-dataset", "data"),
			artifactFrom("read-datasets", "data", "create-dataset", "data"), artifactCount("read-datasets", "data", 3)}},
	{file: "cross_loop_after_topology.yaml", covers: "loops ordered after other loops, nested loops",
		checks: []check{ran("print-op", 2), ran("print-op-4", 4), ran("print-op-7", 4), ran("print-op-8", 2), param("print-op-6", "message", "six")}},
	{file: "modelcar.yaml", covers: "importer of an oci:// model, the driver's modelcar containers in the consumer pod",
		checks: []check{artifactURIs("get-model-files-list", "input_model", "oci://registry.domain.local/modelcar:test"),
			pod("get-model-files-list", runsImage("registry.domain.local/modelcar:test"))}},
	// --- exit handlers and final status
	{file: "pipeline_with_exit_handler.yaml", covers: "exit handler runs after a failing task",
		b: Behaviour{Fail: map[string]bool{"fail-op": true}}, phase: "Failed",
		checks: []check{param("print-op", "message", "Exit handler has worked!"), param("print-op-2", "message", "Hello World!")}},
	{file: "pipeline_with_multiple_exit_handlers.yaml", covers: "three exit handlers, one guarded group fails",
		b: Behaviour{Fail: map[string]bool{"fail-op": true}}, phase: "Failed",
		checks: []check{param("print-op", "message", "First exit handler has worked!"), param("print-op-3", "message", "Second exit handler has worked!"),
			param("print-op-5", "message", "Third exit handler has worked!"), param("print-op-6", "message", "Hello World!")}},
	{file: "pipeline_with_task_final_status.yaml", covers: "exit task receives the guarded group's final status",
		b: Behaviour{Fail: map[string]bool{"fail-op": true}}, phase: "Failed",
		checks: []check{paramHas("exit-op", "status", `"state":"FAILED"`), param("exit-op", "user_input", "Hello World!")}},
	{file: "pipeline_as_exit_task.yaml", covers: "a pipeline as exit task: final status, then a condition on it",
		b: Behaviour{Fail: map[string]bool{"fail-op": true}, Produce: rules{"get-run-state": field("status", "state")}.produce()}, phase: "Failed",
		checks: []check{paramHas("get-run-state", "status", `"state":"FAILED"`),
			paramValues("print-op", "message", "Hello World!", "notify task failure.")}},
	// --- kfp-kubernetes
	{file: "pipeline_with_secret_as_env.yaml", covers: "kfp-kubernetes Secret as env, names from an input, a constant and a task output",
		b: Behaviour{Produce: rules{"generate-secret-name": "secret-from-task"}.produce()},
		checks: []check{envFromSecret("comp", "USER_NAME", "test-secret-1"), envFromSecret("comp", "PASSWORD_VAR1", "test-secret-2"),
			envFromSecret("comp", "PASSWORD_VAR2", "secret-from-task")}},
	{file: "pipeline_with_secret_as_volume.yaml", covers: "kfp-kubernetes Secret as volume, name from a pipeline input",
		checks: []check{volumeMounted("comp", "/mnt/my_vol", secretVolume("test-secret-1"))}},
	{file: "parallel_for_secret.yaml", covers: "kfp-kubernetes Secret env inside a loop",
		checks: []check{paramValues("example-component", "item", "a", "b", "c"), envFromSecret("example-component", "MY_SECRET_KEY", "test-secret-1")}},
	{file: "nested_parallel_for_secret.yaml", covers: "kfp-kubernetes Secret name from an upstream task, inside nested loops",
		b:      Behaviour{Produce: rules{"emit-secret-name": "emitted-secret"}.produce()},
		checks: []check{envFromSecret("worker-component", "MY_SECRET_KEY", "emitted-secret")}},
	{file: "pipeline_with_pod_metadata.yaml", covers: "kfp-kubernetes pod labels/annotations and field paths as env",
		checks: []check{podLabel("validate-pod-metadata-task-a", "task-label-1", "label-1"),
			podAnnotation("validate-pod-metadata-task-a", "task-annotation", "annotation"),
			podLabel("validate-pod-metadata-task-d", "task-label-3", "label-3"),
			podAnnotation("validate-pod-metadata-task-b", "task-annotation-4", "annotation-4")}},
	{file: "create_pod_metadata_complex.yaml", covers: "kfp-kubernetes pod metadata on some tasks only",
		checks: []check{podLabel("validate-pod-metadata", "task-label-2", "label-2"),
			podAnnotation("validate-pod-metadata-2", "task-annotation-2", "annotation-2"),
			podLabel("validate-no-pod-metadata", "task-label-1", "")}},
	{file: "nvidia_gpu_scheduling_check.yaml", covers: "kfp-kubernetes tolerations",
		checks: []check{pod("verify-gpu-scheduled", hasToleration("nvidia.com/gpu"))}},
	{file: "missing_kubernetes_optional_inputs.yaml", covers: "kfp-kubernetes settings whose optional inputs are null are left out of the pod",
		checks: []check{pod("log-message", noEnv("SETTING")), pod("log-message", noVolumeAt("/mnt/config"))}},
	{file: "parallel_for_mount_pvc.yaml", covers: "CreatePVC by the driver, its name from the task output mounted in every loop iteration",
		checks: []check{pvcMountedAll("example-component")}},
	{file: "pvc_mount.yaml", covers: "kfp-kubernetes PVC mount, name from a pipeline input",
		params: map[string]any{"pvc_name": "my-data"},
		checks: []check{volumeMounted("producer", "/data", claim("my-data")), volumeMounted("consumer", "/data", claim("my-data"))}},
	{file: "pipeline_with_volume.yaml", covers: "kfp-kubernetes CreatePVC/DeletePVC done by the driver on the real apiserver, mounted by two tasks",
		checks: []check{pvcLifecycle("producer", "consumer")}},
}

func secretVolume(name string) func(v corev1.VolumeSource) error {
	return func(v corev1.VolumeSource) error {
		if v.Secret == nil || v.Secret.SecretName != name {
			return fmt.Errorf("volume %+v, want Secret %s", v, name)
		}
		return nil
	}
}

func hasToleration(key string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, t := range p.Spec.Tolerations {
			if t.Key == key {
				return nil
			}
		}
		return fmt.Errorf("no toleration for %s in %v", key, p.Spec.Tolerations)
	}
}

// pvcLifecycle: the PVC the tasks mount at /data exists on the apiserver
// (the createpvc driver made it, as the plugin's account) and is being
// deleted (the deletepvc driver ran; with no controller-manager its
// protection finalizer stays).
func pvcLifecycle(users ...string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, users[0])
		if err != nil {
			return err
		}
		var name string
		_ = volumeMounted(users[0], "/data", func(v corev1.VolumeSource) error {
			if v.PersistentVolumeClaim != nil {
				name = v.PersistentVolumeClaim.ClaimName
			}
			return nil
		})(r)
		if name == "" {
			return fmt.Errorf("%s (pod %v) mounts no PVC at /data", users[0], ls[0].Pod != nil)
		}
		for _, u := range users[1:] {
			if err := volumeMounted(u, "/data", claim(name))(r); err != nil {
				return err
			}
		}
		pvc, err := r.Kube.CoreV1().PersistentVolumeClaims(r.Workflow.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if pvc.DeletionTimestamp == nil {
			return fmt.Errorf("PVC %s not deleted by deletepvc", name)
		}
		return nil
	}
}

func noEnv(name string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, e := range mainContainer(p).Env {
			if e.Name == name {
				return fmt.Errorf("env %s is set: %+v", name, e)
			}
		}
		return nil
	}
}

func noVolumeAt(path string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, m := range mainContainer(p).VolumeMounts {
			if m.MountPath == path {
				return fmt.Errorf("a volume is mounted at %s", path)
			}
		}
		return nil
	}
}

// runsImage: some container or init container of the pod runs image.
func runsImage(image string) func(p *corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
			if c.Image == image {
				return nil
			}
		}
		return fmt.Errorf("no container runs %s", image)
	}
}

// pvcMountedAll: every run of task mounts at /data the same PVC, which the
// createpvc driver created on the apiserver.
func pvcMountedAll(task string) check {
	return func(r *Result) error {
		var name string
		err := volumeMounted(task, "/data", func(v corev1.VolumeSource) error {
			if v.PersistentVolumeClaim == nil || (name != "" && v.PersistentVolumeClaim.ClaimName != name) {
				return fmt.Errorf("volume %+v, want the one PVC %q", v, name)
			}
			name = v.PersistentVolumeClaim.ClaimName
			return nil
		})(r)
		if err != nil {
			return err
		}
		_, err = r.Kube.CoreV1().PersistentVolumeClaims(r.Workflow.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		return err
	}
}
