package standin

import (
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
	for cmd, want := range map[string]bool{"sh": true, "python3": false, "no-such-program-here": false} {
		if got := runnable([]string{cmd, "-c", "true"}); got != want {
			t.Errorf("runnable(%s) = %v, want %v", cmd, got, want)
		}
	}
	if runnable([]string{"sh", "-c", "pip install x && python3 -m kfp.dsl.executor_main"}) {
		t.Error("a KFP Python component counted as runnable")
	}
}
