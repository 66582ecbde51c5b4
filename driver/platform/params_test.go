package platform

import (
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestParameterKinds(t *testing.T) {
	sel := func(param string) string {
		return `{"secretAsEnv": [{"secretNameParameter": ` + param + `, "keyToEnv": [{"secretKey": "k", "envVar": "V"}]}]}`
	}
	want := `{"env": [{"name": "V", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}`
	runtime := InputsFunc(func(p *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
		if p.GetRuntimeValue().GetRuntimeParameter() == "rp" {
			return structpb.NewStringValue("s"), nil
		}
		return nil, nil
	})
	runCases(t, []applyCase{
		{name: "constant", cfg: sel(`{"runtimeValue": {"constant": "s"}}`), want: want},
		{name: "deprecated constantValue", cfg: sel(`{"runtimeValue": {"constantValue": {"stringValue": "s"}}}`), want: want},
		{name: "runtime parameter goes to Inputs", cfg: sel(`{"runtimeValue": {"runtimeParameter": "rp"}}`), in: runtime, want: want},
		{name: "Inputs returning nothing is null", cfg: sel(`{"componentInputParameter": "x"}`), in: runtime, want: `{}`, sum: "skipped 1 entry with null input (secretAsEnv[0])"},
		{name: "null constant", cfg: sel(`{"runtimeValue": {"constant": null}}`), want: `{}`},
		{name: "number constant", cfg: sel(`{"runtimeValue": {"constantValue": {"intValue": "3"}}}`),
			err: "secretAsEnv[0].secretNameParameter: constant must resolve to a string, got a number"},
		{name: "bool input", cfg: sel(`{"componentInputParameter": "b"}`), in: inputs(map[string]any{"b": true}),
			err: `component input "b" must resolve to a string, got a boolean`},
		{name: "object input", cfg: sel(`{"componentInputParameter": "b"}`), in: inputs(map[string]any{"b": map[string]any{}}),
			err: `component input "b" must resolve to a string, got an object`},
		{name: "missing task output", cfg: sel(`{"taskOutputParameter": {"producerTask": "t", "outputParameterKey": "o"}}`), in: MapInputs{},
			err: `resolving output "o" of task "t": output "o" of task "t" not found`},
		{name: "kind MapInputs does not resolve", cfg: sel(`{"taskFinalStatus": {"producerTask": "t"}}`), in: MapInputs{},
			err: "resolving task final status: unsupported parameter reference task final status"},
	})
}

func TestProtoIntegers(t *testing.T) {
	runCases(t, []applyCase{
		{name: "int32 written as float", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "a", "operator": "Exists"}], "weight": 50.0}]}`,
			want: `{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]}}}`},
		{name: "int32 as string with exponent", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "a", "operator": "Exists"}], "weight": "1e1"}]}`,
			want: `{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]}}}`},
		{name: "int32 overflow", cfg: `{"nodeAffinity": [{"weight": 2147483648}]}`, err: "nodeAffinity[0].weight: 2147483648 is out of range for int32"},
		{name: "int64 as bool", cfg: `{"activeDeadlineSeconds": true}`, err: "activeDeadlineSeconds: true is not an integer"},
	})
}
