package inputs

import (
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestCoerce(t *testing.T) {
	num, _ := structpb.NewValue(5.0)
	list, _ := structpb.NewValue([]any{"a"})
	obj, _ := structpb.NewValue(map[string]any{"b": 1.0, "a": true})
	cases := []struct {
		typ      pipelinespec.ParameterType_ParameterTypeEnum
		in       *structpb.Value
		inserted bool
		want     string // text form; "" with wantErr
		wantErr  bool
	}{
		{pipelinespec.ParameterType_STRING, num, false, "5", false},
		{pipelinespec.ParameterType_STRING, obj, false, `{"a":true,"b":1}`, false},
		{pipelinespec.ParameterType_STRING, structpb.NewNullValue(), false, "", false},
		{pipelinespec.ParameterType_NUMBER_INTEGER, num, false, "5", false},
		{pipelinespec.ParameterType_NUMBER_INTEGER, structpb.NewStringValue("5"), false, "", true},
		{pipelinespec.ParameterType_LIST, list, false, `["a"]`, false},
		{pipelinespec.ParameterType_STRUCT, list, false, "", true},
		{pipelinespec.ParameterType_BOOLEAN, structpb.NewNullValue(), false, "", true},
		{pipelinespec.ParameterType_BOOLEAN, structpb.NewNullValue(), true, "null", false},
	}
	for _, c := range cases {
		got, err := coerce(c.typ, c.in, c.inserted)
		if (err != nil) != c.wantErr || (err == nil && textOf(got) != c.want) {
			t.Errorf("coerce(%s, %s) = %v, %v", c.typ, textOf(c.in), got, err)
		}
	}
}
