// Package condition evaluates KFP's CEL expressions: task trigger conditions
// (against the task's executor input) and input parameter selectors
// (against one resolved value). Compiled programs are cached: a ParallelFor
// evaluates the same expression once per iteration.
package condition

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// Names of the selector variables: the fields of google.protobuf.Value.
var selectorVars = []string{"string_value", "number_value", "bool_value", "struct_value", "list_value", "null_value"}

type envs struct {
	trigger, selector *cel.Env
	err               error
}

var (
	envOnce  sync.Once
	theEnvs  envs
	programs sync.Map // "t:"/"s:" + expression -> cel.Program
)

func loadEnvs() (envs, error) {
	envOnce.Do(func() {
		theEnvs.trigger, theEnvs.err = cel.NewEnv(parseJSON,
			cel.Types(&pipelinespec.ExecutorInput{}),
			cel.Variable("inputs", cel.ObjectType("ml_pipelines.ExecutorInput.Inputs")),
			cel.Variable("outputs", cel.ObjectType("ml_pipelines.ExecutorInput.Outputs")))
		if theEnvs.err != nil {
			return
		}
		opts := []cel.EnvOption{parseJSON}
		for _, v := range selectorVars {
			opts = append(opts, cel.Variable(v, cel.DynType))
		}
		theEnvs.selector, theEnvs.err = cel.NewEnv(opts...)
	})
	return theEnvs, theEnvs.err
}

// parseJSON is KFP's parseJson(string) -> dyn.
var parseJSON = cel.Function("parseJson",
	cel.Overload("parseJson_string", []*cel.Type{cel.StringType}, cel.DynType,
		cel.UnaryBinding(func(arg ref.Val) ref.Val {
			s, ok := arg.Value().(string)
			if !ok {
				return types.NewErr("parseJson: want a string, got %s", arg.Type())
			}
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return types.NewErr("parseJson: %v", err)
			}
			return types.DefaultTypeAdapter.NativeToValue(v)
		})))

func program(kind string, env *cel.Env, expr string) (cel.Program, error) {
	key := kind + ":" + expr
	if p, ok := programs.Load(key); ok {
		return p.(cel.Program), nil
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("compiling CEL expression %q: %w", expr, iss.Err())
	}
	p, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("preparing CEL expression %q: %w", expr, err)
	}
	programs.Store(key, p)
	return p, nil
}

// Eval evaluates a trigger condition against the task's executor input. A
// non-bool result, a missing map key or any other evaluation error is an
// error.
func Eval(expr string, in *pipelinespec.ExecutorInput) (bool, error) {
	e, err := loadEnvs()
	if err != nil {
		return false, err
	}
	p, err := program("t", e.trigger, expr)
	if err != nil {
		return false, err
	}
	vars := map[string]any{
		"inputs":  orEmpty(in.GetInputs(), &pipelinespec.ExecutorInput_Inputs{}),
		"outputs": orEmpty(in.GetOutputs(), &pipelinespec.ExecutorInput_Outputs{}),
	}
	out, _, err := p.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("evaluating condition %q: %w", expr, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition %q gave %s, want a bool", expr, out.Type())
	}
	return b, nil
}

func orEmpty[T any](v *T, empty *T) *T {
	if v == nil {
		return empty
	}
	return v
}

// Select evaluates a parameter selector (e.g. parseJson(string_value)["a"])
// against one value. The set field of the value is bound, and string_value
// always holds the value's text form.
func Select(expr string, v *structpb.Value) (*structpb.Value, error) {
	e, err := loadEnvs()
	if err != nil {
		return nil, err
	}
	p, err := program("s", e.selector, expr)
	if err != nil {
		return nil, err
	}
	out, _, err := p.Eval(bindSelector(v))
	if err != nil {
		return nil, fmt.Errorf("evaluating selector %q: %w", expr, err)
	}
	native, err := out.ConvertToNative(reflect.TypeOf(&structpb.Value{}))
	if err != nil {
		return nil, fmt.Errorf("selector %q gave %s, not a JSON value: %w", expr, out.Type(), err)
	}
	return native.(*structpb.Value), nil
}

func bindSelector(v *structpb.Value) map[string]any {
	vars := map[string]any{"string_value": Text(v)}
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		vars["number_value"] = k.NumberValue
	case *structpb.Value_BoolValue:
		vars["bool_value"] = k.BoolValue
	case *structpb.Value_StructValue:
		vars["struct_value"] = k.StructValue
	case *structpb.Value_ListValue:
		vars["list_value"] = k.ListValue
	case *structpb.Value_NullValue:
		vars["null_value"] = structpb.NullValue_NULL_VALUE
	}
	return vars
}

// Text is a value's text form: strings as they are, everything else as
// compact JSON with sorted keys (numbers in shortest form: 5, 1.5).
func Text(v *structpb.Value) string {
	if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
		return s.StringValue
	}
	b, err := json.Marshal(v.AsInterface())
	if err != nil {
		return ""
	}
	return string(b)
}
