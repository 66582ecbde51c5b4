package inputs

import (
	"fmt"
	"maps"
	"slices"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/condition"
)

type inputError struct {
	name string
	err  error
}

func textOf(v *structpb.Value) string { return condition.Text(v) }

// selectors applies each input's parameterExpressionSelector (CEL).
func (r *Resolver) selectors(task *pipelinespec.PipelineTaskSpec, res *Resolved) error {
	for _, name := range slices.Sorted(maps.Keys(task.GetInputs().GetParameters())) {
		expr := task.GetInputs().GetParameters()[name].GetParameterExpressionSelector()
		v, ok := res.Inputs.ParameterValues[name]
		if expr == "" || !ok {
			continue
		}
		sel, err := condition.Select(expr, v)
		if err != nil {
			return r.inputErr(name, err)
		}
		res.Inputs.ParameterValues[name] = sel
	}
	return nil
}

// fillOptional gives a nested pipeline's unwired optional inputs their
// default, or a null the validation then accepts.
func fillOptional(comp *pipelinespec.ComponentSpec, res *Resolved) {
	for name, def := range comp.GetInputDefinitions().GetParameters() {
		if _, ok := res.Inputs.ParameterValues[name]; ok || !def.GetIsOptional() {
			continue
		}
		if def.GetDefaultValue() != nil {
			res.Inputs.ParameterValues[name] = def.GetDefaultValue()
			continue
		}
		res.Inputs.ParameterValues[name] = structpb.NewNullValue()
		res.nulls[name] = true
	}
}

// validate checks each resolved parameter against its declared type,
// turning values of STRING inputs into their text form as KFP does.
func validate(comp *pipelinespec.ComponentSpec, res *Resolved, skip []string) *inputError {
	params := res.Inputs.ParameterValues
	defs := comp.GetInputDefinitions().GetParameters()
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		def := defs[name]
		if slices.Contains(skip, name) {
			continue
		}
		v, ok := params[name]
		if !ok {
			if def.GetIsOptional() {
				continue
			}
			if def.GetDefaultValue() == nil {
				return &inputError{name, fmt.Errorf("no value and no default for the required input")}
			}
			v = def.GetDefaultValue()
		}
		coerced, err := coerce(def.GetParameterType(), v, res.nulls[name])
		if err != nil {
			return &inputError{name, err}
		}
		params[name] = coerced
	}
	return nil
}

func coerce(t pipelinespec.ParameterType_ParameterTypeEnum, v *structpb.Value, insertedNull bool) (*structpb.Value, error) {
	if _, isNull := v.GetKind().(*structpb.Value_NullValue); isNull && insertedNull {
		return v, nil
	}
	if t == pipelinespec.ParameterType_STRING {
		if _, isNull := v.GetKind().(*structpb.Value_NullValue); isNull {
			return structpb.NewStringValue(""), nil
		}
		return structpb.NewStringValue(textOf(v)), nil
	}
	if !kindMatches(t, v) {
		return nil, fmt.Errorf("want %s, got %s", t, describe(v))
	}
	return v, nil
}

func kindMatches(t pipelinespec.ParameterType_ParameterTypeEnum, v *structpb.Value) bool {
	switch v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return t == pipelinespec.ParameterType_NUMBER_INTEGER || t == pipelinespec.ParameterType_NUMBER_DOUBLE
	case *structpb.Value_BoolValue:
		return t == pipelinespec.ParameterType_BOOLEAN
	case *structpb.Value_ListValue:
		return t == pipelinespec.ParameterType_LIST
	case *structpb.Value_StructValue:
		return t == pipelinespec.ParameterType_STRUCT || t == pipelinespec.ParameterType_TASK_FINAL_STATUS
	}
	return t == pipelinespec.ParameterType_PARAMETER_TYPE_ENUM_UNSPECIFIED
}

func describe(v *structpb.Value) string {
	s := textOf(v)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	switch v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return fmt.Sprintf("the string %q", s)
	case *structpb.Value_NullValue:
		return "null"
	}
	return s
}

// Validated wraps inputs assembled outside Resolve (a ParallelFor
// iteration's) and applies the same type validation.
func Validated(in *pipelinespec.ExecutorInput_Inputs, comp *pipelinespec.ComponentSpec, skip []string) (*Resolved, error) {
	res := &Resolved{Inputs: in, nulls: map[string]bool{}}
	for name, v := range in.GetParameterValues() {
		if _, isNull := v.GetKind().(*structpb.Value_NullValue); isNull {
			res.nulls[name] = true // recorded by the loop driver, which inserted it
		}
	}
	if err := validate(comp, res, skip); err != nil {
		return nil, fmt.Errorf("input %q: %w", err.name, err.err)
	}
	return res, nil
}
