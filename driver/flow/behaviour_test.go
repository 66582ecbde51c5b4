package flow_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

func walk(t *testing.T, env *drivertest.Env, file, runID string, setup func(*drivertest.Walker)) *drivertest.Trace {
	t.Helper()
	p := load(t, file)
	w := env.Walker(p, runID)
	w.Produce = drivertest.Produce
	if setup != nil {
		setup(w)
	}
	trace, err := w.Run(context.Background(), p)
	if err != nil {
		t.Fatalf("walking %s: %v", file, err)
	}
	return trace
}

func only(t *testing.T, trace *drivertest.Trace, task string) *drivertest.Step {
	t.Helper()
	steps := trace.Find(task)
	if len(steps) != 1 {
		t.Fatalf("task %q: %d driver calls, want 1", task, len(steps))
	}
	return steps[0]
}

// ran is the executor input of a container task that ran.
func ran(t *testing.T, trace *drivertest.Trace, task string) *pipelinespec.ExecutorInput {
	t.Helper()
	s := only(t, trace, task)
	if s.Launch == nil {
		t.Fatalf("task %q did not run: %s", task, s.Result.Message)
	}
	return s.Launch.Input
}

func param(t *testing.T, in *pipelinespec.ExecutorInput, name string) any {
	t.Helper()
	v, ok := in.GetInputs().GetParameterValues()[name]
	if !ok {
		t.Fatalf("input %q not resolved; have %v", name, in.GetInputs().GetParameterValues())
	}
	return v.AsInterface()
}

func TestParametersFromRootAndUpstream(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "two_step_pipeline.yaml", "r1", func(w *drivertest.Walker) { w.Params = map[string]any{"text": "hi there"} })
	if got := param(t, ran(t, trace, "write-to-gcs"), "text"); got != "hi there" {
		t.Errorf("write-to-gcs text = %v", got)
	}
	producer := ran(t, trace, "write-to-gcs").GetOutputs().GetArtifacts()["output_gcs_path"].GetArtifacts()[0]
	got := ran(t, trace, "read-from-gcs").GetInputs().GetArtifacts()["input_gcs_path"].GetArtifacts()
	if len(got) != 1 || got[0].GetUri() != producer.GetUri() {
		t.Fatalf("read-from-gcs input artifact = %v, want the URI %s write-to-gcs was given", got, producer.GetUri())
	}
	if _, err := strconv.ParseInt(got[0].GetName(), 10, 64); err != nil {
		t.Errorf("input artifact name %q is not an MLMD ID", got[0].GetName())
	}
	wantPrefix := "minio://mlpipeline/v2/artifacts/simple-two-step-pipeline/r1/write-to-gcs/"
	if !strings.HasPrefix(producer.GetUri(), wantPrefix) {
		t.Errorf("output URI %s, want prefix %s", producer.GetUri(), wantPrefix)
	}
	add := walk(t, env, "add_numbers.yaml", "r2", func(w *drivertest.Walker) { w.Params = map[string]any{"a": 2, "b": 5} })
	in := ran(t, add, "add-numbers")
	if param(t, in, "a") != 2.0 || param(t, in, "b") != 5.0 {
		t.Errorf("add-numbers inputs = %v", in.GetInputs().GetParameterValues())
	}
	if m := only(t, add, "add-numbers").Result.Message; !strings.Contains(m, "2 inputs resolved") {
		t.Errorf("message %q", m)
	}
}

func TestConditions(t *testing.T) {
	env := drivertest.NewEnv(t)
	for _, coin := range []string{"heads", "tails"} {
		trace := walk(t, env, "flip_coin.yaml", "coin-"+coin, func(w *drivertest.Walker) {
			w.Produce = func(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value {
				if task == "flip-coin" {
					return structpb.NewStringValue(coin)
				}
				return drivertest.Produce(task, def, name)
			}
		})
		heads, tails := only(t, trace, "condition-1").Result, only(t, trace, "condition-4").Result
		if *heads.Condition != (coin == "heads") || *tails.Condition != (coin == "tails") {
			t.Errorf("%s: condition-1 %v, condition-4 %v", coin, *heads.Condition, *tails.Condition)
		}
		skipped := heads
		if coin == "heads" {
			skipped = tails
		}
		if !strings.Contains(skipped.Message, "condition false: skipped") {
			t.Errorf("%s: skipped branch message %q", coin, skipped.Message)
		}
	}
	plain := only(t, walk(t, env, "hello_world.yaml", "h1", nil), "echo").Result
	if plain.Condition != nil {
		t.Errorf("task without a condition: condition = %v, want nil", *plain.Condition)
	}
}

func TestOneOf(t *testing.T) {
	env := drivertest.NewEnv(t)
	for coin, want := range map[string]string{"heads": "Got heads!", "tails": "Got tails!"} {
		trace := walk(t, env, "if_else_with_oneof_parameters.yaml", "oneof-"+coin, func(w *drivertest.Walker) {
			w.Base.Options.CacheDisabled = true
			w.Produce = func(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value {
				switch task {
				case "flip-coin":
					return structpb.NewStringValue(coin)
				case "print-and-return", "print-and-return-2":
					return structpb.NewStringValue(task) // which branch produced it
				}
				return drivertest.Produce(task, def, name)
			}
		})
		text := param(t, ran(t, trace, "print-and-return-3"), "text")
		branch := "print-and-return"
		if coin == "tails" {
			branch = "print-and-return-2"
		}
		if text != branch {
			t.Errorf("%s: print-and-return-3 got %v, want the output of %s (%s)", coin, text, branch, want)
		}
	}
	arts := walk(t, env, "if_else_with_oneof_artifacts.yaml", "oneof-art", nil)
	for _, s := range arts.Steps {
		if s.Launch != nil {
			for name, l := range s.Launch.Input.GetInputs().GetArtifacts() {
				if len(l.GetArtifacts()) != 1 {
					t.Errorf("%s input %s: %d artifacts", s.Task, name, len(l.GetArtifacts()))
				}
			}
		}
	}
}

func TestLoops(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "pipeline_with_loops.yaml", "loops", func(w *drivertest.Walker) {
		w.Params = map[string]any{"loop_parameter": []any{"x", "y", "z"}}
	})
	for task, want := range map[string]int{"for-loop-1": 3, "for-loop-2": 2, "for-loop-4": 2} {
		loop := trace.Find(task)[0].Result
		if *loop.IterationCount != want || !strings.Contains(loop.Message, strconv.Itoa(want)+" iterations") {
			t.Errorf("%s: count %d (%q), want %d", task, *loop.IterationCount, loop.Message, want)
		}
		if n := len(trace.Find(task)); n != want+1 {
			t.Errorf("%s: %d driver calls, want the loop and %d iterations", task, n, want)
		}
	}
	var items []any
	for _, s := range trace.Find("print-text") {
		if s.Launch != nil {
			items = append(items, param(t, s.Launch.Input, "msg"))
		}
	}
	if len(items) != 3 || items[0] != "x" || items[2] != "z" {
		t.Errorf("for-loop-1 items seen by print-text = %v", items)
	}
	// The selector parseJson(string_value)["A_a"] over raw items.
	var selected []any
	for _, s := range trace.Find("print-struct") {
		if s.Launch != nil {
			selected = append(selected, s.Launch.Input.GetInputs().GetParameterValues())
		}
	}
	if len(selected) == 0 {
		t.Log("no print-struct task in this spec version")
	}
}

func TestCollected(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "collected_parameters.yaml", "coll", nil)
	steps := trace.Find("consume-ids")
	var lists int
	for _, s := range steps {
		if s.Launch == nil {
			continue
		}
		for name, v := range s.Launch.Input.GetInputs().GetParameterValues() {
			if l := v.GetListValue(); l != nil {
				lists++
				if len(l.GetValues()) != 3 {
					t.Errorf("consume-ids %s: %d collected values, want 3 (one per iteration)", name, len(l.GetValues()))
				}
			}
		}
	}
	if lists == 0 {
		t.Fatal("consume-ids received no collected list")
	}
	arts := walk(t, env, "artifacts_simple.yaml", "coll-art", nil)
	in := ran(t, arts, "add").GetInputs().GetArtifacts()["in_datasets"].GetArtifacts()
	if len(in) != 3 {
		t.Fatalf("add: %d collected artifacts, want 3", len(in))
	}
}

func TestArtifactIterator(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "pipeline_with_parallelfor_list_artifacts_GH-12033.yaml", "art-loop", nil)
	// make-artifacts is a nested pipeline collecting one artifact per item
	// of its default texts (4); the root's for-loop-1 iterates over them.
	if n := *trace.At("root/for-loop-1").Result.IterationCount; n != 4 {
		t.Fatalf("for-loop-1 over a list of 4 artifacts: %d iterations", n)
	}
	produced := map[string]bool{}
	for _, s := range trace.Find("print-artifact-name") {
		if s.Launch == nil {
			continue
		}
		l := s.Launch.Input.GetInputs().GetArtifacts()["artifact"].GetArtifacts()
		if len(l) != 1 {
			t.Fatalf("iteration input: %d artifacts, want 1", len(l))
		}
		produced[l[0].GetUri()] = true
	}
	if len(produced) != 4 {
		t.Errorf("iterations saw %d distinct artifacts, want 4: %v", len(produced), produced)
	}
}

func TestNestedAndOptional(t *testing.T) {
	env := drivertest.NewEnv(t)
	walk(t, env, "pipeline_in_pipeline_complex.yaml", "nested", nil)
	walk(t, env, "nested_return.yaml", "nested-ret", nil)
	opt := ran(t, walk(t, env, "component_with_optional_inputs.yaml", "opt", nil), "component-op")
	if param(t, opt, "input1") != "Hello" {
		t.Errorf("input1 = %v", param(t, opt, "input1"))
	}
	if _, ok := opt.GetInputs().GetParameterValues()["input3"]; ok {
		t.Error("an unwired optional input without default reached the executor input; the launcher fills it")
	}
	walk(t, env, "nested_pipeline_opt_inputs_nil_compiled.yaml", "opt-nil", nil)
}

func TestPlaceholders(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "pipeline_with_placeholders.yaml", "ph-run", nil)
	in := ran(t, trace, "print-all-placeholders")
	want := map[string]any{"job_id": "ph-run", "job_name": "run ph-run", "job_resource_name": "wf-ph-run",
		"task_name": "print-all-placeholders", "task_id": strconv.FormatInt(trace.RootID, 10)}
	for k, v := range want {
		if got := param(t, in, k); got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

func TestTaskFinalStatus(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "pipeline_with_task_final_status.yaml", "final", func(w *drivertest.Walker) {
		w.Fail = map[string]bool{"fail-op": true}
	})
	status := param(t, ran(t, trace, "exit-op"), "status").(map[string]any)
	if status["state"] != "FAILED" || status["pipelineTaskName"] != "exit-handler-1" || status["pipelineJobResourceName"] != "wf-final" {
		t.Errorf("exit-op status = %v", status)
	}
	ok := walk(t, env, "pipeline_with_task_final_status.yaml", "final-ok", nil)
	if st := param(t, ran(t, ok, "exit-op"), "status").(map[string]any)["state"]; st != "COMPLETE" {
		t.Errorf("exit-op status after success = %v", st)
	}
}
