package e2e

import (
	"os"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
)

// The corpus workflows outside the default suite. Each is in exactly one of
// sweep (runs here too: E2E_ALL=1 runs them all with phase checks only,
// e.g. `E2E_ALL=1 make e2e`) or blocked (cannot run here, and why).
// TestCorpusAccounted keeps the lists complete.

// sweepRun is how a sweep workflow is run: like names the suite case(s)
// with the same features (why it is not in the default suite, whose
// budget is ~10 minutes on 2 cores).
type sweepRun struct {
	like   string
	params map[string]any
	b      Behaviour
	phase  wfv1.WorkflowPhase
}

var sweep = map[string]sweepRun{
	"arguments_parameters.yaml":                                  {like: "add_numbers", params: map[string]any{"param2": "two"}},
	"artifact_crust.yaml":                                        {like: "multiple_artifacts_namedtuple"},
	"component_with_env_variable.yaml":                           {like: "hello_world"},
	"component_with_optional_inputs.yaml":                        {like: "nested_pipeline_opt_input_child_level_compiled"},
	"component_with_pip_index_urls.yaml":                         {like: "hello_world"},
	"component_with_pip_install.yaml":                            {like: "hello_world"},
	"component_with_pip_install_in_venv.yaml":                    {like: "hello_world"},
	"components_with_optional_artifacts.yaml":                    {like: "multiple_artifacts_namedtuple"},
	"concat_message.yaml":                                        {like: "add_numbers", params: map[string]any{"message1": "a", "message2": "b"}},
	"container_component_with_no_inputs.yaml":                    {like: "hello_world"},
	"container_io.yaml":                                          {like: "add_numbers", params: map[string]any{"text": "t"}},
	"container_no_input.yaml":                                    {like: "hello_world"},
	"container_with_artifact_output.yaml":                        {like: "two_step_pipeline", params: map[string]any{"num_epochs": 1}},
	"container_with_concat_placeholder.yaml":                     {like: "add_numbers", params: map[string]any{"text1": "t"}},
	"container_with_if_placeholder.yaml":                         {like: "hello_world"},
	"container_with_placeholder_in_fstring.yaml":                 {like: "hello_world"},
	"containerized_python_component.yaml":                        {like: "add_numbers", params: map[string]any{"message1": "a", "message2": "b"}},
	"dict_input.yaml":                                            {like: "add_numbers", params: map[string]any{"struct": map[string]any{"k": "v"}}},
	"embedded_artifact.yaml":                                     {like: "two_step_pipeline"},
	"env-var.yaml":                                               {like: "add_numbers", params: map[string]any{"env_var": "E"}},
	"fail_v2.yaml":                                               {like: "pipeline_with_exit_handler", b: Behaviour{Fail: map[string]bool{"fail": true}}, phase: wfv1.WorkflowFailed},
	"identity.yaml":                                              {like: "add_numbers", params: map[string]any{"value": "v"}},
	"lightweight_python_functions_with_outputs.yaml":             {like: "lightweight_python_functions_pipeline", params: map[string]any{"first_message": "a", "first_number": 1, "second_message": "b", "second_number": 2}},
	"local_execution_pipeline_with_exit_handler.yaml":            {like: "pipeline_with_task_final_status"},
	"local_execution_pipeline_with_ignore_upstream_failure.yaml": {like: "pipeline_with_exit_handler (nothing fails here)", params: map[string]any{"marker_path": "/tmp/m"}},
	"local_execution_pipeline_with_k8s_only_methods.yaml":        {like: "hello_world"},
	"local_execution_pipeline_with_oneof.yaml":                   {like: "if_else_with_oneof_parameters"},
	"local_execution_pipeline_with_retry.yaml":                   {like: "add_numbers", params: map[string]any{"counter_path": "/tmp/c"}},
	"log_streaming_compiled.yaml":                                {like: "hello_world"},
	"long-running.yaml":                                          {like: "pipeline_with_after"},
	"metrics_visualization_v2.yaml":                              {like: "iris_pipeline_compiled"},
	"mounted_cabundle_configmap.yaml":                            {like: "hello_world"},
	"mounted_cabundle_secret.yaml":                               {like: "hello_world"},
	"xgboost_sample_pipeline.yaml":                               {like: "iris_pipeline_compiled (an unset optional input's default fills its command-line placeholder)"},
	"pipeline_with_dynamic_task_output_custom_training_job.yaml": {like: "pipeline_with_outputs", params: map[string]any{"location": "us-central1", "project": "p", "tensorboard": "t", "service_account": "s", "network": "n", "base_output_directory": "gs://b"}},
	"nested_pipeline_opt_inputs_nil_compiled.yaml":               {like: "nested_pipeline_opt_inputs_parent_level_compiled"},
	"nested_return.yaml":                                         {like: "hello_world"},
	"notebook_component_mixed.yaml":                              {like: "two_step_pipeline"},
	"notebook_component_simple.yaml":                             {like: "hello_world"},
	"output_metrics.yaml":                                        {like: "two_step_pipeline"},
	"pipeline_in_pipeline_loaded_from_yaml.yaml":                 {like: "pipeline_in_pipeline"},
	"pipeline_producer_consumer.yaml":                            {like: "nested_with_parameters"},
	"pipeline_with_after.yaml":                                   {like: "parallel_for_after_dependency"},
	"pipeline_with_artifact_upload_download.yaml":                {like: "two_step_pipeline"},
	"pipeline_with_caching.yaml":                                 {like: "cache/parameter_cache"},
	"pipeline_with_concat_placeholder.yaml":                      {like: "hello_world"},
	"pipeline_with_condition_dynamic_task_output_custom_training_job.yaml": {like: "pipeline_with_condition",
		params: map[string]any{"location": "us-central1", "project": "p"}},
	"pipeline_with_dynamic_importer_metadata.yaml": {like: "pipeline_with_importer"},
	"pipeline_with_env.yaml":                       {like: "hello_world"},
	"pipeline_with_google_artifact_type.yaml":      {like: "two_step_pipeline"},
	"pipeline_with_importer_and_gcpc_types.yaml":   {like: "pipeline_with_importer"},
	"pipeline_with_importer_workspace.yaml":        {like: "pipeline_with_importer, pipeline_with_workspace"},
	"pipeline_with_input_status_state.yaml":        {like: "pipeline_with_task_final_status"},
	"pipeline_with_loops_and_conditions.yaml": {like: "pipeline_with_loops, flip_coin", b: Behaviour{Produce: rules{
		"args-generator-op": abLists, "args-generator-op-2": abLists, "flip-coin-op": "heads"}.produce()}},
	"pipeline_with_metrics_outputs.yaml":        {like: "pipeline_with_collected_artifacts"},
	"pipeline_with_nested_conditions_yaml.yaml": {like: "pipeline_with_nested_conditions"},
	"pipeline_with_only_display_name.yaml":      {like: "hello_world"},
	"pipeline_with_parallelfor_pipeline_param.yaml": {like: "pipeline_with_parallelfor_parallelism",
		params: map[string]any{"loop_parameter": []any{"x", "y"}, "prefix": "p"}},
	"pipeline_with_retry.yaml":                                {like: "add_numbers"},
	"pipeline_with_reused_component.yaml":                     {like: "producer_consumer_param_pipeline"},
	"pipeline_with_string_machine_fields_pipeline_input.yaml": {like: "pipeline_with_params_containing_format", params: map[string]any{"accelerator_type": "nvidia.com/gpu"}},
	"pipeline_with_string_machine_fields_task_output.yaml": {like: "pipeline_with_params_containing_format", b: Behaviour{Produce: rules{
		"accelerator-type": "nvidia.com/gpu", "accelerator-limit": "1", "cpu-limit": "4000m", "memory-limit": "15G"}.produce()}},
	"pipeline_with_submit_request.yaml":                     {like: "producer_consumer_param_pipeline"},
	"pipeline_with_task_final_status_yaml.yaml":             {like: "pipeline_with_task_final_status"},
	"pipeline_with_utils.yaml":                              {like: "hello_world"},
	"pipeline_with_volume_long_name.yaml":                   {like: "pipeline_with_volume"},
	"pipeline_with_volume_no_cache.yaml":                    {like: "pipeline_with_volume"},
	"pipeline_with_workspace.yaml":                          {like: "two_step_pipeline"},
	"placeholder_with_if_placeholder_none_input_value.yaml": {like: "hello_world"},
	"preprocess.yaml": {like: "lightweight_python_functions_pipeline", params: map[string]any{
		"input_dict_parameter": map[string]any{"A": 1}, "input_list_parameter": []any{"a"}, "message": "m"}},
	// print-op (ignore_upstream_failure, fail-op's exit hook) gets its input's default when fail-op fails.
	"pipeline_with_task_using_ignore_upstream_failure.yaml": {like: "pipeline_with_exit_handler",
		b: Behaviour{Fail: map[string]bool{"fail-op": true}}, phase: wfv1.WorkflowFailed},
	"pythonic_artifact_with_single_return.yaml":     {like: "pythonic_artifacts_test_pipeline"},
	"pythonic_artifacts_with_multiple_returns.yaml": {like: "pythonic_artifacts_test_pipeline"},
	"ray_integration_compiled.yaml":                 {like: "hello_world"},
	"run_as_user_cache_disabled.yaml":               {like: "hello_world"},
	"run_as_user_cache_enabled.yaml":                {like: "hello_world"},
	"sequential_v1.yaml":                            {like: "add_numbers", params: map[string]any{"param1": "a", "param2": "b"}},
	"sequential_v2.yaml":                            {like: "two_step_pipeline", params: map[string]any{"url": "gs://x/y"}},
	"take_nap_compiled.yaml":                        {like: "pipeline_with_after"},
	"take_nap_pipeline_root_compiled.yaml":          {like: "pipeline_with_after"},
	"two_step_pipeline_containerized.yaml":          {like: "two_step_pipeline"},
	"upload_download_compiled.yaml": {like: "two_step_pipeline", params: map[string]any{
		"bucket_name": "b", "mlpipeline_minio_artifact_secret": "mlpipeline-minio-artifact"}},
}

// blocked are corpus workflows that cannot run to Succeeded here.
var blocked = map[string]string{
	"component_with_metadata_fields.yaml": "needs pipeline input artifacts (dataset_a, dataset_b): a KFP run cannot pass any " +
		"(the pinned PipelineJob.RuntimeConfig has parameter values only); it is a component compiled as a pipeline",
	"input_artifact.yaml":                 "needs a pipeline input artifact (data); see component_with_metadata_fields",
	"pipeline_with_metadata_fields.yaml":  "needs a pipeline input artifact (in_dataset); see component_with_metadata_fields",
	"pipeline_with_various_io_types.yaml": "needs a pipeline input artifact (input3); see component_with_metadata_fields",
}

// suiteFiles are the corpus files the default suite runs.
func suiteFiles() map[string]bool {
	files := map[string]bool{"parameter_cache.yaml": true, "artifact_cache.yaml": true}
	for _, c := range corpusCases {
		files[c.file] = true
	}
	return files
}

// TestCorpusAccounted: every corpus workflow is in the suite, the sweep or
// blocked, exactly once, and the lists name only corpus files.
func TestCorpusAccounted(t *testing.T) {
	files, err := CorpusFiles()
	if err != nil {
		t.Fatal(err)
	}
	inSuite, seen := suiteFiles(), map[string]bool{}
	for _, f := range files {
		seen[f] = true
		_, inSweep := sweep[f]
		_, isBlocked := blocked[f]
		if n := btoi(inSuite[f]) + btoi(inSweep) + btoi(isBlocked); n != 1 {
			t.Errorf("%s: in %d of suite/sweep/blocked, want exactly 1", f, n)
		}
	}
	for _, list := range []map[string]bool{inSuite, keysOf(sweep), keysOf(blocked)} {
		for f := range list {
			if !seen[f] {
				t.Errorf("%s is not in the corpus", f)
			}
		}
	}
	t.Logf("corpus %d: suite %d, sweep %d, blocked %d", len(files), len(inSuite), len(sweep), len(blocked))
	for _, f := range keys(blocked) {
		t.Logf("blocked %s: %s", f, blocked[f])
	}
}

// runSweep runs the sweep workflows (E2E_ALL=1 only) with phase checks.
func runSweep(t *testing.T, s *Stack) {
	if os.Getenv("E2E_ALL") == "" {
		return
	}
	for _, f := range keys(sweep) {
		w := sweep[f]
		name := strings.TrimSuffix(f, ".yaml")
		parallel(t, "sweep/"+name, func(t *testing.T) {
			runCase(t, s, NamespaceFor("sweep-"+name), tcase{file: f, params: w.params, b: w.b, phase: w.phase})
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
