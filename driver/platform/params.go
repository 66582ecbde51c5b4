package platform

import (
	"errors"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// Inputs resolves the parameter references a platform config holds (a PVC,
// secret or config map name, node selector / toleration / affinity JSON)
// exactly as the container driver resolves a task input: componentInputParameter
// from the parent DAG's inputs, taskOutputParameter from the upstream task's
// outputs. Constants are resolved by this package and never reach Inputs.
//
// An optional pipeline input that has no value must resolve to a null value
// (structpb.NewNullValue(); a nil value counts as null): KFP then drops the
// config entry that uses it. Inputs takes no context: implementations that
// query the metadata store capture the call's context.
// A reference that cannot be resolved is an error; errors are wrapped, so a
// driver.TransientError returned here stays detectable.
type Inputs interface {
	ResolveParameter(spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error)
}

// InputsFunc adapts a function to Inputs.
type InputsFunc func(spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error)

// ResolveParameter calls f.
func (f InputsFunc) ResolveParameter(spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
	return f(spec)
}

// MapInputs is an Inputs over values already resolved: the parent DAG's
// input parameters by name, and upstream outputs by producer task and key.
type MapInputs struct {
	Params  map[string]*structpb.Value
	Outputs map[string]map[string]*structpb.Value
}

// Parameter returns the parent DAG's input parameter name.
func (m MapInputs) Parameter(name string) (*structpb.Value, bool) {
	v, ok := m.Params[name]
	return v, ok
}

// ResolveParameter implements Inputs for component inputs and task outputs.
func (m MapInputs) ResolveParameter(spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
	if name := spec.GetComponentInputParameter(); name != "" {
		if v, ok := m.Parameter(name); ok {
			return v, nil
		}
		return nil, fmt.Errorf("component input parameter %q not found", name)
	}
	if out := spec.GetTaskOutputParameter(); out != nil {
		if v, ok := m.Outputs[out.GetProducerTask()][out.GetOutputParameterKey()]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("output %q of task %q not found", out.GetOutputParameterKey(), out.GetProducerTask())
	}
	return nil, fmt.Errorf("unsupported parameter reference %s", describeParam(spec))
}

// errNull marks a reference that resolved to null (an optional input without
// a value); callers skip the entry or reject it, as KFP does per field.
var errNull = errors.New("resolved to null")

// resolve returns the value spec refers to, or errNull.
func (a *applier) resolve(field string, spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
	v, err := a.resolveValue(spec)
	if err != nil {
		return nil, fieldErr(field, "resolving %s: %w", describeParam(spec), err)
	}
	if _, isNull := v.GetKind().(*structpb.Value_NullValue); v == nil || v.GetKind() == nil || isNull {
		return nil, errNull
	}
	return v, nil
}

func (a *applier) resolveValue(spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
	if rv := spec.GetRuntimeValue(); rv != nil && rv.GetRuntimeParameter() == "" {
		return constantValue(rv), nil
	}
	if a.in == nil {
		return nil, errors.New("no task inputs were given to resolve it")
	}
	return a.in.ResolveParameter(spec)
}

// constantValue reads runtimeValue.constant, or the deprecated
// runtimeValue.constantValue older SDKs wrote.
func constantValue(rv *pipelinespec.ValueOrRuntimeParameter) *structpb.Value {
	if c := rv.GetConstant(); c != nil {
		return c
	}
	old := rv.GetConstantValue()
	switch old.GetValue().(type) {
	case *pipelinespec.Value_StringValue:
		return structpb.NewStringValue(old.GetStringValue())
	case *pipelinespec.Value_IntValue:
		return structpb.NewNumberValue(float64(old.GetIntValue()))
	case *pipelinespec.Value_DoubleValue:
		return structpb.NewNumberValue(old.GetDoubleValue())
	}
	return structpb.NewNullValue()
}

// resolveName resolves a (str) name parameter: it must be a non-empty string.
func (a *applier) resolveName(field string, spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (string, error) {
	v, err := a.resolve(field, spec)
	if err != nil {
		return "", err
	}
	s, ok := v.GetKind().(*structpb.Value_StringValue)
	if !ok {
		return "", fieldErr(field, "%s must resolve to a string, got %s", describeParam(spec), valueKind(v))
	}
	if s.StringValue == "" {
		return "", fieldErr(field, "%s resolved to an empty string", describeParam(spec))
	}
	return s.StringValue, nil
}

// nameOf resolves a name given either as a parameter (newer SDKs) or as a
// deprecated plain string; the parameter wins, as in KFP.
func (a *applier) nameOf(field, paramField string, param *paramSpec, plain, plainField string) (string, error) {
	if param != nil && param.spec != nil {
		return a.resolveName(joinPath(field, paramField), param.spec)
	}
	if plain != "" {
		return plain, nil
	}
	return "", fieldErr(field, "one of %s or %s is required", paramField, plainField)
}

func describeParam(spec *pipelinespec.TaskInputsSpec_InputParameterSpec) string {
	switch {
	case spec.GetComponentInputParameter() != "":
		return fmt.Sprintf("component input %q", spec.GetComponentInputParameter())
	case spec.GetTaskOutputParameter() != nil:
		out := spec.GetTaskOutputParameter()
		return fmt.Sprintf("output %q of task %q", out.GetOutputParameterKey(), out.GetProducerTask())
	case spec.GetRuntimeValue().GetRuntimeParameter() != "":
		return fmt.Sprintf("runtime parameter %q", spec.GetRuntimeValue().GetRuntimeParameter())
	case spec.GetRuntimeValue() != nil:
		return "constant"
	case spec.GetTaskFinalStatus() != nil:
		return "task final status"
	}
	return "empty parameter reference"
}

func valueKind(v *structpb.Value) string {
	switch v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return "a string"
	case *structpb.Value_NumberValue:
		return "a number"
	case *structpb.Value_BoolValue:
		return "a boolean"
	case *structpb.Value_StructValue:
		return "an object"
	case *structpb.Value_ListValue:
		return "a list"
	}
	return "null"
}
