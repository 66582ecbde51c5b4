package flow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/condition"
)

// Prepare does ahead of the first call what it would otherwise pay for: the
// connection to the configured MLMD and KFP's types in it, the codecs'
// per-type set-up for the specs a call decodes and the replies it encodes,
// and the condition language's environment. A fresh sidecar's first call
// took ten times a warm one's. Nothing is written but KFP's MLMD types,
// which every first call registers anyway; a failure only means the first
// call does it.
func (s *Service) Prepare(ctx context.Context) error {
	warmCodecs()
	client, err := s.MLMDClient()
	if err != nil {
		return err
	}
	if err := client.Prepare(ctx); err != nil {
		return fmt.Errorf("preparing MLMD at %s:%s: %w", s.deps.Endpoints.MLMDHost, s.deps.Endpoints.MLMDPort, err)
	}
	return nil
}

// warmSpec is a small CONTAINER call's specs, enough to reach the message
// types a real call decodes.
const warmSpec = `{
 "component": {"executorLabel": "exec-a", "inputDefinitions": {"parameters": {"x": {"parameterType": "STRING"}},
  "artifacts": {"d": {"artifactType": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}}}},
  "outputDefinitions": {"parameters": {"y": {"parameterType": "NUMBER_INTEGER"}}}},
 "task": {"taskInfo": {"name": "a"}, "componentRef": {"name": "comp-a"}, "triggerPolicy": {"condition": "true"},
  "inputs": {"parameters": {"x": {"runtimeValue": {"constant": "v"}}}}, "cachingOptions": {"enableCache": true}},
 "container": {"image": "busybox", "command": ["sh", "-c"], "args": ["echo {{$.inputs.parameters['x']}}"]}
}`

func warmCodecs() {
	var specs struct {
		Component, Task, Container json.RawMessage
	}
	_ = json.Unmarshal([]byte(warmSpec), &specs)
	var comp pipelinespec.ComponentSpec
	var task pipelinespec.PipelineTaskSpec
	var ctr pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec
	_ = protojson.Unmarshal(specs.Component, &comp)
	_ = protojson.Unmarshal(specs.Task, &task)
	_ = protojson.Unmarshal(specs.Container, &ctr)
	_, _ = protojson.Marshal(&pipelinespec.ExecutorInput{Inputs: &pipelinespec.ExecutorInput_Inputs{}, Outputs: &pipelinespec.ExecutorInput_Outputs{}})
	_, _ = json.Marshal(&corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}})
	_, _ = condition.Eval(task.GetTriggerPolicy().GetCondition(), &pipelinespec.ExecutorInput{})
}
