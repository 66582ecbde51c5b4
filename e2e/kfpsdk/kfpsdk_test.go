package kfpsdk

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// The tests run the corpus components' real command lines (pip prelude,
// then `python3 -m kfp.dsl.executor_main` on the source) with the host's
// python3 and the stand-in on PYTHONPATH. Artifact URIs are minio:// ones
// whose mount MountRootEnv moves under the test's directory.

// TestAddNumbers: parameters in, the return value out as "Output".
func TestAddNumbers(t *testing.T) {
	s := newSDK(t)
	c := corpusComponent(t, "add_numbers.yaml", "add_numbers")
	r := s.run(t, c, task{name: "add-numbers", params: map[string]any{"a": 1, "b": 2}})
	mustSucceed(t, "add_numbers", r)
	if got := r.Output.ParameterValues["Output"]; got != float64(3) {
		t.Fatalf("Output = %v (%T), want 3", got, got)
	}
}

// TestLightweightPipeline: preprocess writes Output[Dataset], an
// OutputPath artifact and OutputPath parameters of four types; train reads
// them (InputPath, Input[Dataset], typed parameters, the default of
// num_steps) and writes Output[Model] with metadata.
func TestLightweightPipeline(t *testing.T) {
	s := newSDK(t)
	pre := task{name: "preprocess", params: map[string]any{
		"message": "hello", "input_dict_parameter": map[string]any{"A": 1, "B": 2},
		"input_list_parameter": []any{"a", "b", "c"},
	}}
	r := s.run(t, corpusComponent(t, "lightweight_python_functions_pipeline.yaml", "preprocess"), pre)
	mustSucceed(t, "preprocess", r)
	one := r.Output.artifact(t, "output_dataset_one")
	two := r.Output.artifact(t, "output_dataset_two_path")
	if one.URI != bucketRoot+"/preprocess/output_dataset_one" || one.Name != "output_dataset_one" {
		t.Errorf("output_dataset_one = %+v", one)
	}
	for _, a := range []runtimeArtifact{one, two} {
		if got := s.readArtifact(t, a.URI); got != "hello" {
			t.Errorf("%s holds %q, want hello", a.URI, got)
		}
	}
	for name, want := range map[string]string{
		"output_parameter_path":      "hello",
		"output_bool_parameter_path": "True",
		"output_dict_parameter_path": `{"A": 1, "B": 2}`,
		"output_list_parameter_path": `["a", "b", "c"]`,
	} {
		if got := s.outputParameter(t, pre, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	train := task{name: "train",
		params: map[string]any{"message": "hello", "input_bool": true,
			"input_dict": map[string]any{"A": 1, "B": 2}, "input_list": []any{"a", "b", "c"}},
		inputs: map[string][]runtimeArtifact{"dataset_one_path": {one}, "dataset_two": {two}},
		types:  map[string]string{"dataset_one_path": "system.Dataset", "dataset_two": "system.Dataset"},
	}
	r = s.run(t, corpusComponent(t, "lightweight_python_functions_pipeline.yaml", "train"), train)
	mustSucceed(t, "train", r)
	model := r.Output.artifact(t, "model")
	if model.Metadata["accuracy"] != 0.9 {
		t.Errorf("model metadata %v, want accuracy 0.9", model.Metadata)
	}
	got := s.readArtifact(t, model.URI)
	for _, want := range []string{"Step 0\n", "Step 99\n", "dataset_one_contents: hello || dataset_two_contents: hello",
		"input_bool: True, type <class 'bool'>", "input_dict: {'A': 1, 'B': 2}, type <class 'dict'>"} {
		if !strings.Contains(got, want) {
			t.Errorf("model file lacks %q:\n%.400s", want, got)
		}
	}
	if strings.Contains(got, "Step 100\n") {
		t.Error("num_steps is not its default 100")
	}
}

// TestNamedTupleParameters: a NamedTuple return gives one output per field.
func TestNamedTupleParameters(t *testing.T) {
	s := newSDK(t)
	r := s.run(t, corpusComponent(t, "multiple_parameters_namedtuple.yaml", "core_comp"), task{name: "core-comp"})
	mustSucceed(t, "core_comp", r)
	if r.Output.ParameterValues["val1"] != "foo" || r.Output.ParameterValues["val2"] != "bar" {
		t.Fatalf("parameterValues %v, want val1=foo val2=bar", r.Output.ParameterValues)
	}
}

// TestNamedTupleArtifacts: returned artifacts, made with dsl.get_uri under
// the task root, replace the provisioned ones, with their metadata.
func TestNamedTupleArtifacts(t *testing.T) {
	s := newSDK(t)
	in := runtimeArtifact{Name: "in-data", URI: bucketRoot + "/make-dataset/Output"}
	s.writeArtifact(t, in.URI, "abcdef")
	r := s.run(t, corpusComponent(t, "pythonic_artifacts_with_multiple_returns.yaml", "dataset_splitter"), task{
		name:   "dataset-splitter",
		inputs: map[string][]runtimeArtifact{"in_dataset": {in}},
		types:  map[string]string{"in_dataset": "system.Dataset"},
	})
	mustSucceed(t, "dataset_splitter", r)
	for field, want := range map[string]string{"dataset1": "abc", "dataset2": "def"} {
		a := r.Output.artifact(t, field)
		if a.URI != bucketRoot+"/dataset-splitter/"+field {
			t.Errorf("%s uri %s, want the task root plus %s", field, a.URI, field)
		}
		if got := s.readArtifact(t, a.URI); got != want {
			t.Errorf("%s holds %q, want %q", field, got, want)
		}
		if a.Metadata["original_data"] != "in-data" {
			t.Errorf("%s metadata %v, want original_data=in-data", field, a.Metadata)
		}
	}
}

// TestPythonicArtifacts: a bare Dataset argument is an input artifact with
// its metadata (train_model asserts on both), and a returned Model is the
// output; a wrong input makes the user's assert fail: exit 1, traceback.
func TestPythonicArtifacts(t *testing.T) {
	s := newSDK(t)
	r := s.run(t, corpusComponent(t, "pythonic_artifacts_test_pipeline.yaml", "gen_data"), task{name: "gen-data"})
	mustSucceed(t, "gen_data", r)
	data := r.Output.artifact(t, "Output")
	if data.URI != bucketRoot+"/gen-data/Output" || data.Metadata["length"] != float64(9) {
		t.Fatalf("gen_data returned %+v", data)
	}
	trainModel := corpusComponent(t, "pythonic_artifacts_test_pipeline.yaml", "train_model")
	tk := task{name: "train-model", inputs: map[string][]runtimeArtifact{"dataset": {data}},
		types: map[string]string{"dataset": "system.Dataset"}}
	r = s.run(t, trainModel, tk)
	mustSucceed(t, "train_model", r)
	model := r.Output.artifact(t, "Output")
	if got := s.readArtifact(t, model.URI); model.URI != bucketRoot+"/train-model/model" || got != "model trained" {
		t.Fatalf("train_model returned %+v holding %q", model, got)
	}

	s.writeArtifact(t, data.URI, "other data")
	r = s.run(t, trainModel, task{name: "train-model-2", inputs: tk.inputs, types: tk.types})
	if r.Code != 1 || !strings.Contains(r.Stderr, "Traceback") || !strings.Contains(r.Stderr, "AssertionError") {
		t.Fatalf("failing user code exited %d, want 1 with the traceback; stderr:\n%s", r.Code, r.Stderr)
	}
	if r.Output != nil {
		t.Error("a failed task wrote an executor output")
	}
}

// TestListOfArtifacts: List[Dataset] gets every input artifact; a string
// returned for a Dataset output is written to its file.
func TestListOfArtifacts(t *testing.T) {
	s := newSDK(t)
	var list []runtimeArtifact
	for i, text := range []string{"Hello", ", ", "world!"} {
		a := runtimeArtifact{Name: "Output", URI: fmt.Sprintf("%s/make-dataset-%d/Output", bucketRoot, i)}
		s.writeArtifact(t, a.URI, text)
		list = append(list, a)
	}
	r := s.run(t, corpusComponent(t, "pythonic_artifacts_with_list_of_artifacts.yaml", "join_datasets"), task{
		name: "join-datasets", inputs: map[string][]runtimeArtifact{"datasets": list},
		types: map[string]string{"datasets": "system.Dataset"},
	})
	mustSucceed(t, "join_datasets", r)
	out := r.Output.artifact(t, "Output")
	if got := s.readArtifact(t, out.URI); got != "Hello, world!" {
		t.Fatalf("Output holds %q", got)
	}
}

// TestTaskFinalStatus: the exit handler gets PipelineTaskFinalStatus from
// the parameter value the driver resolves (driver/inputs finalStatus).
func TestTaskFinalStatus(t *testing.T) {
	s := newSDK(t)
	r := s.run(t, corpusComponent(t, "pipeline_with_task_final_status.yaml", "exit_op"), task{
		name: "exit-handler-1",
		params: map[string]any{"user_input": "hi", "status": map[string]any{
			"state": "FAILED", "pipelineTaskName": "fail-op", "pipelineJobResourceName": "run-abc",
			"error": map[string]any{},
		}},
	})
	mustSucceed(t, "exit_op", r)
	for _, want := range []string{"Pipeline status:  FAILED\n", "Job resource name:  run-abc\n",
		"Pipeline task name:  fail-op\n", "Error code:  None\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// TestOptionalArtifactAbsent: an Optional[Input[Artifact]] not given is
// None.
func TestOptionalArtifactAbsent(t *testing.T) {
	s := newSDK(t)
	r := s.run(t, corpusComponent(t, "components_with_optional_artifacts.yaml", "python_artifact_printer"), task{name: "printer"})
	mustSucceed(t, "python_artifact_printer", r)
	if !strings.Contains(r.Stdout, "No artifact provided!") {
		t.Fatalf("stdout:\n%s", r.Stdout)
	}
}

// TestMetrics: Output[Metrics].log_metric lands in the artifact's metadata.
func TestMetrics(t *testing.T) {
	s := newSDK(t)
	r := s.run(t, corpusComponent(t, "output_metrics.yaml", "output_metrics"), task{name: "output-metrics"})
	mustSucceed(t, "output_metrics", r)
	m := r.Output.artifact(t, "metrics")
	acc, ok := m.Metadata["accuracy"].(float64)
	if !ok || acc < 0 || acc > 100 || acc != float64(int(acc)) {
		t.Fatalf("metrics metadata %v, want an integer accuracy in [0, 100]", m.Metadata)
	}
}

// TestEmbeddedArtifact: EmbeddedInput is the file or directory the source
// unpacks at import (the user code asserts on the content).
func TestEmbeddedArtifact(t *testing.T) {
	s := newSDK(t)
	for _, fn := range []string{"read_embedded_artifact_file", "read_embedded_artifact_dir"} {
		mustSucceed(t, fn, s.run(t, corpusComponent(t, "embedded_artifact.yaml", fn), task{name: fn}))
	}
}

// TestClassificationMetrics: the loggers write the metadata shapes the KFP
// UI reads.
func TestClassificationMetrics(t *testing.T) {
	s := newSDK(t)
	r := s.exec(t, []string{"python3", "-c", `
import json
from kfp.dsl import ClassificationMetrics, SlicedClassificationMetrics
m = ClassificationMetrics()
m.log_roc_curve([0.0, 0.5], [0.1, 0.9], [1.0, 0.5])
m.log_confusion_matrix(['a', 'b'], [[1, 2], [3, 4]])
m.log_confusion_matrix_cell('b', 'a', 7)
s = SlicedClassificationMetrics()
s.load_roc_readings('x', [[0.5, 0.9, 0.1]])
print(json.dumps({'m': m.metadata, 's': s.metadata}))
`})
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"m": map[string]any{
			"confidenceMetrics": []any{
				map[string]any{"confidenceThreshold": 1.0, "recall": 0.1, "falsePositiveRate": 0.0},
				map[string]any{"confidenceThreshold": 0.5, "recall": 0.9, "falsePositiveRate": 0.5},
			},
			"confusionMatrix": map[string]any{
				"annotationSpecs": []any{map[string]any{"displayName": "a"}, map[string]any{"displayName": "b"}},
				"rows":            []any{map[string]any{"row": []any{1.0, 2.0}}, map[string]any{"row": []any{7.0, 4.0}}},
			},
		},
		"s": map[string]any{"evaluationSlices": []any{map[string]any{"slice": "x", "sliceClassificationMetrics": map[string]any{
			"confidenceMetrics": []any{map[string]any{"confidenceThreshold": 0.5, "recall": 0.9, "falsePositiveRate": 0.1}},
		}}}},
	}
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Fatalf("metadata\n%s\nwant\n%s", a, b)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMissingModule: a component whose code imports a module the image
// lacks exits 127 and says which (iris's create_dataset needs pandas; the
// run skips its pip prelude, which would stop first).
func TestMissingModule(t *testing.T) {
	s := newSDK(t)
	c := corpusComponent(t, "iris_pipeline_compiled.yaml", "create_dataset")
	if c.Command[3] != "sh" || c.Command[4] != "-ec" {
		t.Fatalf("unexpected command shape %q", c.Command[:5])
	}
	c.Command = c.Command[3:] // sh -ec <program> <source>
	r := s.run(t, c, task{name: "create-dataset"})
	if r.Code != CannotRun || !strings.Contains(r.Stderr, "module 'pandas' is not installed") {
		t.Fatalf("exit %d, want %d naming pandas; stderr:\n%s", r.Code, CannotRun, r.Stderr)
	}
	if r.Output != nil {
		t.Error("a task that could not run wrote an executor output")
	}
}

// TestPipRequirement: pip cannot install a package other than kfp: the
// component's command exits 127 before the executor runs.
func TestPipRequirement(t *testing.T) {
	s := newSDK(t)
	for _, fn := range []struct{ file, function string }{
		{"component_with_pip_install.yaml", "component_with_pip_install"},
		{"component_with_pip_index_urls.yaml", "component_op"},
		// Not component_with_pip_install_in_venv.yaml: `python3 -m venv`
		// drops PYTHONPATH, so on the host it would bootstrap the host's
		// real pip into the venv, unlike the image.
	} {
		r := s.run(t, corpusComponent(t, fn.file, fn.function), task{name: fn.function})
		if r.Code != CannotRun || !strings.Contains(r.Stderr, "cannot install yapf") {
			t.Errorf("%s: exit %d, want %d naming yapf; stderr:\n%s", fn.file, r.Code, CannotRun, r.Stderr)
		}
		if r.Output != nil {
			t.Errorf("%s: wrote an executor output", fn.file)
		}
	}
}

// TestPip: what counts as installed, and how pip is found.
func TestPip(t *testing.T) {
	s := newSDK(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"install", "--quiet", "--no-warn-script-location", "kfp==2.14.6", "--no-deps", `typing-extensions>=3.7.4,<5; python_version<"3.9"`}, 0},
		{[]string{"install", "--index-url", "https://pypi.org/simple", "--trusted-host", "https://pypi.org/simple", "kfp==2.14.3"}, 0},
		{[]string{"install", "kfp-kubernetes", "Typing_Extensions", "kfp[all]>=2"}, 0},
		{[]string{"install", `pandas; python_version<"3.0"`}, 0}, // its marker excludes this interpreter
		{[]string{"install", "kfp", "pandas==2.2.0"}, CannotRun},
		{[]string{"install", "git+https://github.com/kubeflow/pipelines"}, CannotRun},
		{[]string{"install", "-e", "."}, CannotRun},
		{[]string{"download", "kfp"}, CannotRun},
		{[]string{"--version"}, 0},
	} {
		if r := s.exec(t, append([]string{"pip"}, tc.args...)); r.Code != tc.code {
			t.Errorf("pip %q: exit %d, want %d; stderr: %s", tc.args, r.Code, tc.code, r.Stderr)
		}
	}
	reqs := filepath.Join(s.work, "requirements.txt")
	if err := os.WriteFile(reqs, []byte("# pinned\nkfp==2.14.6\n--extra-index-url https://example.invalid\nscikit-learn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := s.exec(t, []string{"python3", "-m", "pip", "install", "-r", reqs}); r.Code != CannotRun || !strings.Contains(r.Stderr, "scikit-learn") {
		t.Errorf("pip install -r: exit %d, want %d naming scikit-learn; stderr: %s", r.Code, CannotRun, r.Stderr)
	}
	// The components look pip up with `command -v pip`, else bootstrap it
	// (and `python3 -m venv` always does) with ensurepip: a no-op here.
	if r := s.exec(t, []string{"sh", "-c", `[ -x "$(command -v pip)" ]`}); r.Code != 0 {
		t.Error("pip is not an executable on PATH")
	}
	if r := s.exec(t, []string{"python3", "-m", "ensurepip", "--upgrade", "--default-pip"}); r.Code != 0 || !strings.Contains(r.Stderr, "e2e stand-in") {
		t.Errorf("python3 -m ensurepip: exit %d, want 0 from the stand-in; stderr: %s", r.Code, r.Stderr)
	}
}

// TestContainerizedComponent: `python3 -m kfp.dsl.executor_main` without
// a module path needs a component image: 127.
func TestContainerizedComponent(t *testing.T) {
	s := newSDK(t)
	c := corpusComponent(t, "containerized_python_component.yaml", "concat_message")
	r := s.run(t, c, task{name: "concat-message", params: map[string]any{"message1": "a", "message2": "b"}})
	if r.Code != CannotRun || !strings.Contains(r.Stderr, "component_module_path") {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.Code, CannotRun, r.Stderr)
	}
}

// TestCorpusComponents: every Python component of the corpus is checked by
// testdata/check_components.py: its pip packages, its module loaded with
// the stand-in's loader, the function found, its annotations supported,
// every module it imports installed and every global name (and dsl./kfp.
// attribute) its code reads defined. A component may need what the image
// lacks (127 at run time); none may fail the check otherwise, which is
// what says our kfp.dsl is complete for the corpus.
func TestCorpusComponents(t *testing.T) {
	s := newSDK(t)
	type checked struct {
		ID       string `json:"id"`
		Function string `json:"function"`
		Source   string `json:"source"`
		Prelude  string `json:"prelude"`
	}
	var list []checked
	containerized := 0
	for _, c := range corpusComponents(t) {
		if c.Source() == "" {
			containerized++
			continue
		}
		list = append(list, checked{ID: c.File + "/" + c.Function, Function: c.Function, Source: c.Source(), Prelude: c.Prelude()})
	}
	in, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), s.lookPath(t, "python3"), filepath.Join(root, "e2e/kfpsdk/testdata/check_components.py"))
	cmd.Env, cmd.Dir = append(s.env, "_KFP_RUNTIME=true"), s.work
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check_components.py: %v\n%s", err, stderr.String())
	}
	var ok int
	reasons := map[string][]string{}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, line := range lines {
		var r struct{ ID, Status, Reason string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("check_components.py: %q: %v", line, err)
		}
		switch r.Status {
		case "ok":
			ok++
		case "cannot-run":
			reasons[r.Reason] = append(reasons[r.Reason], r.ID)
		default:
			t.Errorf("%s: %s", r.ID, r.Reason)
		}
	}
	if len(lines) != len(list) {
		t.Fatalf("%d results for %d components", len(lines), len(list))
	}
	t.Logf("%d Python components in the corpus: %d supported, %d need what the image lacks, %d containerized (need their own image)",
		len(list)+containerized, ok, len(list)-ok, containerized)
	var keys []string
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %s: %s", strings.Join(reasons[k], ", "), k)
	}
	// Most of the corpus must run: a drop means the stand-in lost a feature.
	if ok < len(list)*9/10 {
		t.Errorf("only %d of %d components supported", ok, len(list))
	}
}

// TestLocalPaths: artifact paths follow the launcher's mounts
// (driver/executor.LocalPath), a path set maps back to its URI, and
// MountRootEnv moves only the mounts.
func TestLocalPaths(t *testing.T) {
	s := newSDK(t)
	r := s.exec(t, []string{"python3", "-c", `
import json
from kfp.dsl import Artifact, Model
out = {u: Artifact(uri=u).path for u in ['gs://b/x', 's3://b/x', 'minio://b/x', 'oci://reg/m:1', '/data/x']}
out['model'] = Model(uri='oci://reg/m:1').path
a = Artifact(uri='minio://b/x')
a.path = a.path + '/sub'
out['set'] = a.uri
a.metadata['_kfp_workspace'] = True
out['workspace'] = a.path
print(json.dumps(out))
`})
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatal(err)
	}
	m := s.mounts
	want := map[string]string{
		"gs://b/x": m + "/gcs/b/x", "s3://b/x": m + "/s3/b/x", "minio://b/x": m + "/minio/b/x",
		"oci://reg/m:1": m + "/oci/reg_m:1", "/data/x": "/data/x",
		"model": m + "/oci/reg_m:1/models", "set": "minio://b/x/sub",
		"workspace": m + "/kfp-workspace/.artifacts/minio/b/x/sub",
	}
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Fatalf("paths\n%s\nwant\n%s", a, b)
	}
}

// TestUnsupportedName: a kfp name the stand-in lacks (here the compile-time
// dsl.importer) makes the task exit 127 naming it, not a user failure.
func TestUnsupportedName(t *testing.T) {
	s := newSDK(t)
	module := filepath.Join(s.work, "uses_importer.py")
	if err := os.WriteFile(module, []byte("from kfp import dsl\n\ndef f() -> str:\n    return dsl.importer(artifact_uri='gs://x')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := `{"outputs": {"outputFile": "` + s.local(bucketRoot+"/f/output_metadata.json") + `"}}`
	r := s.exec(t, []string{"python3", "-m", "kfp.dsl.executor_main", "--component_module_path", module,
		"--function_to_execute", "f", "--executor_input", in})
	if r.Code != CannotRun || !strings.Contains(r.Stderr, "kfp.dsl.importer is not in the KFP SDK stand-in") {
		t.Fatalf("exit %d, want %d naming kfp.dsl.importer; stderr:\n%s", r.Code, CannotRun, r.Stderr)
	}
}

// TestFiles: the packages land under SitePackages, pip is an executable
// script, and no bytecode cache of the source tree slips in.
func TestFiles(t *testing.T) {
	byPath := map[string]os.FileMode{}
	for _, f := range Files() {
		if strings.Contains(f.Path, "__pycache__") || !strings.HasPrefix(f.Path, "/") {
			t.Errorf("file %s", f.Path)
		}
		byPath[f.Path] = f.Mode
	}
	for _, p := range []string{"kfp/__init__.py", "kfp/dsl/__init__.py", "kfp/dsl/executor_main.py",
		"pip/__init__.py", "pip/__main__.py", "ensurepip/__main__.py"} {
		if _, ok := byPath[SitePackages+"/"+p]; !ok {
			t.Errorf("%s/%s is missing", SitePackages, p)
		}
	}
	for _, p := range PipCommands {
		if byPath[p] != 0o755 {
			t.Errorf("%s has mode %v, want 0755", p, byPath[p])
		}
	}
}
