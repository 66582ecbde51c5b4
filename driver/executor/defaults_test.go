package executor

import (
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
)

// An optional input with a default, left unset by the task, still fills a
// command-line placeholder (xgboost_sample_pipeline's "format"), while the
// executor input keeps it absent.
func TestPlaceholderUsesDeclaredDefaultOfUnsetInput(t *testing.T) {
	comp := &pipelinespec.ComponentSpec{}
	if err := protojson.Unmarshal([]byte(`{"executorLabel":"exec-dl","inputDefinitions":{"parameters":{
		"format":{"parameterType":"STRING","defaultValue":"csv","isOptional":true},
		"limit":{"parameterType":"NUMBER_INTEGER"}}}}`), comp); err != nil {
		t.Fatal(err)
	}
	in := &pipelinespec.ExecutorInput{}
	if err := protojson.Unmarshal([]byte(`{"inputs":{"parameterValues":{"limit":10}}}`), in); err != nil {
		t.Fatal(err)
	}
	ctr := &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{
		Image: "busybox",
		Args:  []string{"--format", "{{$.inputs.parameters['format']}}", "--limit", "{{$.inputs.parameters['limit']}}"},
	}
	spec, err := PodSpec(Task{Input: in, Component: comp, Container: ctr})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(spec.Containers[0].Args, " ")
	if !strings.Contains(got, "--format csv --limit 10") {
		t.Fatalf("args %q: want the default csv and the resolved 10", got)
	}
	if _, ok := in.GetInputs().GetParameterValues()["format"]; ok {
		t.Fatal("the executor input must keep the unset optional input absent")
	}

	// Without a declared default the placeholder still fails, naming it.
	comp.InputDefinitions.Parameters["format"].DefaultValue = nil
	if _, err := PodSpec(Task{Input: in, Component: comp, Container: ctr}); err == nil || !strings.Contains(err.Error(), `"format"`) {
		t.Fatalf("want an error naming the input without a value, got %v", err)
	}
}
