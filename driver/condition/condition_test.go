package condition

import (
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

func inputs(params map[string]any) *pipelinespec.ExecutorInput {
	pv := map[string]*structpb.Value{}
	for k, v := range params {
		pv[k], _ = structpb.NewValue(v)
	}
	return &pipelinespec.ExecutorInput{Inputs: &pipelinespec.ExecutorInput_Inputs{ParameterValues: pv}}
}

func TestEval(t *testing.T) {
	in := inputs(map[string]any{"pipelinechannel--flip-Output": "heads", "n": 1.0, "j": `{"a": 3}`})
	for expr, want := range map[string]bool{
		`inputs.parameter_values['pipelinechannel--flip-Output'] == 'heads'`: true,
		`inputs.parameter_values['pipelinechannel--flip-Output'] != 'heads'`: false,
		`inputs.parameter_values['n'] == 1`:                                  true,
		`int(inputs.parameter_values['n']) > 0`:                              true,
		`parseJson(inputs.parameter_values['j'])['a'] == 3`:                  true,
	} {
		got, err := Eval(expr, in)
		if err != nil || got != want {
			t.Errorf("Eval(%s) = %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, bad := range []string{`inputs.parameter_values['missing'] == 'x'`, `inputs.parameter_values['n']`, `((`} {
		if _, err := Eval(bad, in); err == nil {
			t.Errorf("Eval(%s): want an error", bad)
		}
	}
}

func TestSelect(t *testing.T) {
	v, _ := structpb.NewValue(`{"A_a": "1", "B_b": 2}`)
	got, err := Select(`parseJson(string_value)["A_a"]`, v)
	if err != nil || got.GetStringValue() != "1" {
		t.Fatalf("Select = %v, %v", got, err)
	}
	s, _ := structpb.NewValue(map[string]any{"B_b": 2.0})
	got, err = Select(`struct_value["B_b"]`, s)
	if err != nil || got.GetNumberValue() != 2 {
		t.Fatalf("Select struct = %v, %v", got, err)
	}
}

func TestText(t *testing.T) {
	for want, v := range map[string]any{"5": 5.0, "1.5": 1.5, "true": true, `{"a":1,"b":[1,"x"]}`: map[string]any{"b": []any{1.0, "x"}, "a": 1.0}, "hi": "hi"} {
		pv, _ := structpb.NewValue(v)
		if got := Text(pv); got != want {
			t.Errorf("Text(%v) = %q, want %q", v, got, want)
		}
	}
}
