package iterate

import (
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestItems(t *testing.T) {
	list, _ := structpb.NewValue([]any{1.0, "a"})
	for name, tc := range map[string]struct {
		v       *structpb.Value
		n       int
		wantErr bool
	}{
		"list":        {list, 2, false},
		"json list":   {structpb.NewStringValue(`[{"a":1},{"a":2},{"a":3}]`), 3, false},
		"json object": {structpb.NewStringValue(`{"a":1}`), 0, false},
		"not json":    {structpb.NewStringValue(`[`), 0, true},
		"number":      {structpb.NewNumberValue(3), 0, true},
		"null":        {structpb.NewNullValue(), 0, true},
	} {
		items, err := Items(tc.v)
		if (err != nil) != tc.wantErr || len(items) != tc.n {
			t.Errorf("%s: Items = %d items, %v", name, len(items), err)
		}
	}
	raw, err := Raw(`[{"A_a": "1"}, {"A_a": "10"}]`)
	if err != nil {
		t.Fatal(err)
	}
	item, err := Param(raw, 1)
	if err != nil || item.GetStructValue().GetFields()["A_a"].GetStringValue() != "10" {
		t.Fatalf("Param = %v, %v", item, err)
	}
	if _, err := Param(raw, 2); err == nil {
		t.Fatal("Param out of range: want error")
	}
	arts := &pipelinespec.ArtifactList{Artifacts: []*pipelinespec.RuntimeArtifact{{Name: "1"}, {Name: "2"}}}
	one, err := Artifact(arts, 1)
	if err != nil || len(one.Artifacts) != 1 || one.Artifacts[0].Name != "2" {
		t.Fatalf("Artifact = %v, %v", one, err)
	}
	if _, err := Artifact(arts, 5); err == nil {
		t.Fatal("Artifact out of range: want error")
	}
}
