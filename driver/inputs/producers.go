package inputs

import (
	"encoding/json"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// selector names one candidate producer of a DAG output: a subtask of the
// DAG and its output key.
type selector struct {
	Task string `json:"producer_subtask"`
	Key  string `json:"output_artifact_key"`
}

// artifactProducer is one entry of KFP's artifact_producer_task property,
// which KFP encodes with Go's encoding/json and snake_case names.
type artifactProducer struct {
	Selectors []selector `json:"artifact_selectors"`
}

// ProducerProps renders a DAG's output mapping as the custom properties KFP
// records on DAG executions (parameter_producer_task,
// artifact_producer_task); consumers follow them lazily.
func ProducerProps(dag *pipelinespec.DagSpec) (map[string]*pb.Value, error) {
	props := map[string]*pb.Value{}
	if params := dag.GetOutputs().GetParameters(); len(params) > 0 {
		fields := map[string]*structpb.Value{}
		for name, spec := range params {
			b, err := protojson.Marshal(spec)
			if err != nil {
				return nil, fmt.Errorf("encoding DAG output parameter %q: %w", name, err)
			}
			fields[name] = structpb.NewStringValue(string(b))
		}
		props[mlmd.PropParameterProducer] = mlmd.StructValue(fields)
	}
	if arts := dag.GetOutputs().GetArtifacts(); len(arts) > 0 {
		m := map[string]artifactProducer{}
		for name, spec := range arts {
			var p artifactProducer
			for _, s := range spec.GetArtifactSelectors() {
				p.Selectors = append(p.Selectors, selector{Task: s.GetProducerSubtask(), Key: s.GetOutputArtifactKey()})
			}
			m[name] = p
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding DAG output artifacts: %w", err)
		}
		props[mlmd.PropArtifactProducer] = mlmd.StringValue(string(b))
	}
	return props, nil
}

// producers reads the candidates for output key of a DAG execution.
func producers(dag *mlmd.Execution, key string, param bool) ([]selector, error) {
	if param {
		return parameterProducers(dag, key)
	}
	return artifactProducers(dag, key)
}

func parameterProducers(dag *mlmd.Execution, key string) ([]selector, error) {
	raw, ok := dag.Struct(mlmd.PropParameterProducer)[key]
	if !ok {
		return nil, fmt.Errorf("DAG task %q (execution %d) declares no output parameter %q", dag.TaskName(), dag.ID(), key)
	}
	var spec pipelinespec.DagOutputsSpec_DagOutputParameterSpec
	if err := protojson.Unmarshal([]byte(raw.GetStringValue()), &spec); err != nil {
		return nil, fmt.Errorf("DAG execution %d: output parameter %q mapping: %w", dag.ID(), key, err)
	}
	if p := spec.GetValueFromParameter(); p != nil {
		return []selector{{Task: p.GetProducerSubtask(), Key: p.GetOutputParameterKey()}}, nil
	}
	var out []selector
	for _, p := range spec.GetValueFromOneof().GetParameterSelectors() {
		out = append(out, selector{Task: p.GetProducerSubtask(), Key: p.GetOutputParameterKey()})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("DAG execution %d: output parameter %q has no producer", dag.ID(), key)
	}
	return out, nil
}

func artifactProducers(dag *mlmd.Execution, key string) ([]selector, error) {
	raw := dag.String(mlmd.PropArtifactProducer)
	m := map[string]artifactProducer{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("DAG execution %d: output artifact mapping: %w", dag.ID(), err)
		}
	}
	p, ok := m[key]
	if !ok || len(p.Selectors) == 0 {
		return nil, fmt.Errorf("DAG task %q (execution %d) declares no output artifact %q", dag.TaskName(), dag.ID(), key)
	}
	return p.Selectors, nil
}
