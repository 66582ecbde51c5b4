package drivertest

import (
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// produced are the outputs the stand-in user code returns where a real
// spec's own code would return something specific: lists of dicts for loops
// over structs, quantities for resource fields, a coin side for conditions.
var produced = map[string]any{
	"args-generator-op": []any{map[string]any{"A_a": "1", "B_b": "2"}, map[string]any{"A_a": "10", "B_b": "20"}},
	"list-dict-maker-0": []any{map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": 2.0, "b": 3.0}},
	"list-dict-maker-1": []any{map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": 2.0, "b": 3.0}},
	"list-dict-maker-2": []any{map[string]any{"a": 1.0, "b": 2.0}},
	"list-dict-maker-3": []any{map[string]any{"a": 1.0, "b": 2.0}},
	"cpu-limit":         "4000m",
	"memory-limit":      "15G",
	"accelerator-type":  "nvidia.com/gpu",
	"accelerator-limit": "1",
	"flip-coin":         "heads",
	"flip-coin-op":      "heads",
}

// Produce is a Walker.Produce for the real specs in driver/testdata: the
// values above for the tasks that need them, Default for the rest.
func Produce(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value {
	if v, ok := produced[task]; ok && name == "Output" {
		pv, _ := structpb.NewValue(v)
		if def.GetParameterType() == pipelinespec.ParameterType_STRING && pv.GetStringValue() == "" {
			b, _ := pv.MarshalJSON()
			return structpb.NewStringValue(string(b))
		}
		return pv
	}
	return Default(task, def, name)
}
