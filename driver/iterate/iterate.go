// Package iterate turns a ParallelFor's items into a count and per-iteration
// values: parameter lists (from an input or raw JSON) and artifact lists
// (KFP's driver stops at "not implemented" for the latter).
package iterate

import (
	"encoding/json"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// Items extracts the items of a parameter iterator's value: a list gives its
// elements, a string is parsed as JSON (a non-list JSON value gives no
// items), any other kind is an error.
func Items(v *structpb.Value) ([]*structpb.Value, error) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_ListValue:
		return k.ListValue.GetValues(), nil
	case *structpb.Value_StringValue:
		var parsed any
		if err := json.Unmarshal([]byte(k.StringValue), &parsed); err != nil {
			return nil, fmt.Errorf("items %q are not JSON: %w", truncate(k.StringValue), err)
		}
		list, ok := parsed.([]any)
		if !ok {
			return nil, nil
		}
		lv, err := structpb.NewList(list)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		return lv.GetValues(), nil
	default:
		return nil, fmt.Errorf("items must be a list or a JSON string, got %s", kindName(v))
	}
}

// Raw parses an iterator's raw items (JSON text in the pipeline spec).
func Raw(raw string) (*structpb.Value, error) {
	var parsed any
	if err := json.Unmarshal([]byte(raw), &parsed); err != nil {
		return nil, fmt.Errorf("raw items %q are not JSON: %w", truncate(raw), err)
	}
	v, err := structpb.NewValue(parsed)
	if err != nil {
		return nil, fmt.Errorf("raw items: %w", err)
	}
	return v, nil
}

// Param is the parameter iterator's item i of v.
func Param(v *structpb.Value, i int) (*structpb.Value, error) {
	items, err := Items(v)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(items) {
		return nil, fmt.Errorf("iteration %d is out of range: %d items", i, len(items))
	}
	return items[i], nil
}

// Artifact is the artifact iterator's item i of list, as a one-element list.
func Artifact(list *pipelinespec.ArtifactList, i int) (*pipelinespec.ArtifactList, error) {
	arts := list.GetArtifacts()
	if i < 0 || i >= len(arts) {
		return nil, fmt.Errorf("iteration %d is out of range: %d artifacts", i, len(arts))
	}
	return &pipelinespec.ArtifactList{Artifacts: []*pipelinespec.RuntimeArtifact{arts[i]}}, nil
}

func kindName(v *structpb.Value) string {
	switch v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return "a number"
	case *structpb.Value_BoolValue:
		return "a bool"
	case *structpb.Value_StructValue:
		return "a struct"
	case *structpb.Value_NullValue, nil:
		return "null"
	}
	return "an unknown kind"
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
