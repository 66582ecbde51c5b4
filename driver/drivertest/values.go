package drivertest

import (
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// Default is the output value the stand-in's user code produces when the
// test does not choose: small values of the declared type, lists of three.
func Default(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value {
	switch def.GetParameterType() {
	case pipelinespec.ParameterType_NUMBER_INTEGER:
		return structpb.NewNumberValue(3)
	case pipelinespec.ParameterType_NUMBER_DOUBLE:
		return structpb.NewNumberValue(0.5)
	case pipelinespec.ParameterType_BOOLEAN:
		return structpb.NewBoolValue(true)
	case pipelinespec.ParameterType_LIST:
		v, _ := structpb.NewValue([]any{"a", "b", "c"})
		return v
	case pipelinespec.ParameterType_STRUCT:
		v, _ := structpb.NewValue(map[string]any{"task": task, "key": name})
		return v
	}
	return structpb.NewStringValue(task + "." + name)
}

func (wk *walk) outputs(task string, comp *pipelinespec.ComponentSpec) map[string]*structpb.Value {
	produce := wk.Produce
	if produce == nil {
		produce = Default
	}
	out := map[string]*structpb.Value{}
	for name, def := range comp.GetOutputDefinitions().GetParameters() {
		if v := produce(task, def, name); v != nil {
			out[name] = v
		}
	}
	return out
}
