package mlmd

import (
	"slices"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// TestProducerPropsRoundTrip: a DAG's output mapping is written in KFP's
// encoding and read back as the same selectors.
func TestProducerPropsRoundTrip(t *testing.T) {
	dag := &pipelinespec.DagSpec{Outputs: &pipelinespec.DagOutputsSpec{
		Artifacts: map[string]*pipelinespec.DagOutputsSpec_DagOutputArtifactSpec{"m": {ArtifactSelectors: []*pipelinespec.DagOutputsSpec_ArtifactSelectorSpec{
			{ProducerSubtask: "a", OutputArtifactKey: "x"}, {ProducerSubtask: "b", OutputArtifactKey: "y"}}}},
		Parameters: map[string]*pipelinespec.DagOutputsSpec_DagOutputParameterSpec{
			"p": {Kind: &pipelinespec.DagOutputsSpec_DagOutputParameterSpec_ValueFromOneof{ValueFromOneof: &pipelinespec.DagOutputsSpec_ParameterSelectorsSpec{
				ParameterSelectors: []*pipelinespec.DagOutputsSpec_ParameterSelectorSpec{{ProducerSubtask: "c", OutputParameterKey: "o"}, {ProducerSubtask: "d", OutputParameterKey: "o"}}}}},
		},
	}}
	props, err := ProducerProps(dag)
	if err != nil {
		t.Fatal(err)
	}
	got := props["artifact_producer_task"].GetStringValue()
	want := `{"m":{"artifact_selectors":[{"producer_subtask":"a","output_artifact_key":"x"},{"producer_subtask":"b","output_artifact_key":"y"}]}}`
	if got != want {
		t.Errorf("artifact_producer_task =\n%s\nwant (KFP's snake_case encoding)\n%s", got, want)
	}
	exec := &Execution{Proto: &pb.Execution{CustomProperties: props}, TypeName: DAGExecutionType}
	arts, err := exec.OutputProducers("m", false)
	if err != nil || !slices.Equal(arts, []record.Selector{{Task: "a", Key: "x"}, {Task: "b", Key: "y"}}) {
		t.Errorf("artifact producers of m: %v, %v", arts, err)
	}
	params, err := exec.OutputProducers("p", true)
	if err != nil || !slices.Equal(params, []record.Selector{{Task: "c", Key: "o"}, {Task: "d", Key: "o"}}) {
		t.Errorf("parameter producers of p: %v, %v", params, err)
	}
	if _, err := exec.OutputProducers("nope", true); err == nil {
		t.Error("an undeclared output has producers")
	}
}
