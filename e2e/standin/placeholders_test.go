package standin

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestResolvePlaceholders(t *testing.T) {
	in := &pipelinespec.ExecutorInput{
		Inputs: &pipelinespec.ExecutorInput_Inputs{
			ParameterValues: map[string]*structpb.Value{"msg": structpb.NewStringValue("hi"), "n": structpb.NewNumberValue(3)},
			Artifacts: map[string]*pipelinespec.ArtifactList{"data": {Artifacts: []*pipelinespec.RuntimeArtifact{
				{Uri: "minio://b/in/data"}}}},
		},
		Outputs: &pipelinespec.ExecutorInput_Outputs{
			Parameters: map[string]*pipelinespec.ExecutorInput_OutputParameter{"out": {OutputFile: "/tmp/kfp/outputs/out"}},
			Artifacts: map[string]*pipelinespec.ArtifactList{"model": {Artifacts: []*pipelinespec.RuntimeArtifact{
				{Uri: "gs://b/out/model"}}}},
		},
	}
	got := resolvePlaceholders([]string{
		"echo {{$.inputs.parameters['msg']}} {{$.inputs.parameters['n']}} > {{$.outputs.parameters['out'].output_file}}",
		"{{$.inputs.artifacts['data'].path}}", "{{$.inputs.artifacts['data'].uri}}",
		"{{$.outputs.artifacts['model'].path}}", "{{$.inputs.parameters['absent']}}",
	}, in)
	want := []string{
		"echo hi 3 > /tmp/kfp/outputs/out",
		"/minio/b/in/data", "minio://b/in/data",
		"/gcs/b/out/model", "{{$.inputs.parameters['absent']}}",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestRunnable(t *testing.T) {
	for cmd, want := range map[string]bool{"sh": true, "no-such-program-here": false, "": false} {
		if got := runnable([]string{cmd, "-c", "true"}); got != want {
			t.Errorf("runnable(%q) = %v, want %v", cmd, got, want)
		}
	}
	if runnable(nil) {
		t.Error("an empty command counted as runnable")
	}
}

func TestExecutorOutputWinsAndReplacesArtifacts(t *testing.T) {
	dir := t.TempDir()
	outFile := filepath.Join(dir, "output_metadata.json")
	in := &pipelinespec.ExecutorInput{Outputs: &pipelinespec.ExecutorInput_Outputs{
		OutputFile: outFile,
		Artifacts:  map[string]*pipelinespec.ArtifactList{"model": {Artifacts: []*pipelinespec.RuntimeArtifact{{Uri: "minio://b/provisioned"}}}},
	}}
	produced := map[string]any{"Output": "from the file", "other": "kept"}
	if _, err := applyExecutorOutput(in, produced); err != nil {
		t.Fatalf("no executor output file: %v", err)
	}
	if produced["Output"] != "from the file" {
		t.Fatalf("without an executor output file the parameter files count: %v", produced)
	}
	out := `{"parameterValues": {"Output": 3, "flag": true}, "artifacts": {"model": {"artifacts": [{"uri": "minio://b/returned", "custom_path": "/tmp/out_dataset"}]}, "undeclared": {"artifacts": [{"uri": "minio://b/x"}]}}}`
	if err := os.WriteFile(outFile, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	custom, err := applyExecutorOutput(in, produced)
	if err != nil {
		t.Fatal(err)
	}
	if custom["model"] != "/tmp/out_dataset" || len(custom) != 1 {
		t.Errorf("custom paths = %v, want model at /tmp/out_dataset", custom)
	}
	want := map[string]any{"Output": float64(3), "flag": true, "other": "kept"}
	if !reflect.DeepEqual(produced, want) {
		t.Errorf("produced = %v, want %v", produced, want)
	}
	arts := in.GetOutputs().GetArtifacts()
	if got := arts["model"].GetArtifacts()[0].GetUri(); got != "minio://b/returned" {
		t.Errorf("model uri = %s, want the returned artifact's", got)
	}
	if arts["undeclared"] != nil {
		t.Error("an undeclared artifact was added to the outputs")
	}
	if err := os.WriteFile(outFile, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := applyExecutorOutput(in, produced); err == nil {
		t.Error("a malformed executor output was accepted")
	}
}

func TestTypedAcceptsPythonBooleans(t *testing.T) {
	for s, want := range map[string]any{"True": true, "False": false, "true": true, "false\n": false} {
		got, err := typed(s, pipelinespec.ParameterType_BOOLEAN)
		if err != nil || got != want {
			t.Errorf("typed(%q, BOOLEAN) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := typed("maybe", pipelinespec.ParameterType_BOOLEAN); err == nil {
		t.Error(`typed("maybe", BOOLEAN) accepted`)
	}
}
