package mlmdserver_test

import (
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func props(kv ...any) map[string]mlmd.PropertyType {
	m := map[string]mlmd.PropertyType{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(mlmd.PropertyType)
	}
	return m
}

func TestPutTypeUpsertSemantics(t *testing.T) {
	const (
		str = mlmd.PropertyType_STRING
		num = mlmd.PropertyType_INT
	)
	stored := props("a", str, "b", num)
	tests := []struct {
		name        string
		req         map[string]mlmd.PropertyType
		add, omit   bool
		want        codes.Code
		wantStored  map[string]mlmd.PropertyType
		wantSameID  bool
		typeName    string
		noName      bool
		unknownProp bool
	}{
		{name: "identical", req: props("a", str, "b", num), want: codes.OK, wantStored: stored},
		{name: "new property without can_add_fields", req: props("a", str, "b", num, "c", str), want: codes.AlreadyExists},
		{name: "new property with can_add_fields", req: props("a", str, "b", num, "c", str), add: true, want: codes.OK, wantStored: props("a", str, "b", num, "c", str)},
		{name: "omitted property without can_omit_fields", req: props("a", str), want: codes.AlreadyExists},
		{name: "omitted property with can_omit_fields", req: props("a", str), omit: true, want: codes.OK, wantStored: stored},
		{name: "no properties with can_omit_fields", req: nil, omit: true, want: codes.OK, wantStored: stored},
		{name: "mismatched value type", req: props("a", num, "b", num), add: true, omit: true, want: codes.AlreadyExists},
		{name: "no name", noName: true, want: codes.InvalidArgument},
		{name: "UNKNOWN property type", req: props("a", str, "b", num, "z", mlmd.PropertyType_UNKNOWN), add: true, want: codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			first := must[*mlmd.PutArtifactTypeResponse](t)(e.c.PutArtifactType(e.ctx, &mlmd.PutArtifactTypeRequest{
				ArtifactType: &mlmd.ArtifactType{Name: proto.String("system.Model"), Properties: stored},
			})).GetTypeId()
			req := &mlmd.ArtifactType{Name: proto.String("system.Model"), Properties: tc.req}
			if tc.noName {
				req.Name = nil
			}
			resp, err := e.c.PutArtifactType(e.ctx, &mlmd.PutArtifactTypeRequest{
				ArtifactType: req, CanAddFields: proto.Bool(tc.add), CanOmitFields: proto.Bool(tc.omit),
			})
			wantCode(t, err, tc.want)
			got := must[*mlmd.GetArtifactTypeResponse](t)(e.c.GetArtifactType(e.ctx, &mlmd.GetArtifactTypeRequest{TypeName: proto.String("system.Model")}))
			if tc.want != codes.OK {
				if !proto.Equal(&mlmd.ArtifactType{Properties: got.GetArtifactType().GetProperties()}, &mlmd.ArtifactType{Properties: stored}) {
					t.Errorf("failed upsert changed the stored type: %v", got)
				}
				return
			}
			if resp.GetTypeId() != first {
				t.Errorf("upsert returned id %d, want the stored id %d", resp.GetTypeId(), first)
			}
			if !proto.Equal(&mlmd.ArtifactType{Properties: got.GetArtifactType().GetProperties()}, &mlmd.ArtifactType{Properties: tc.wantStored}) {
				t.Errorf("stored properties = %v, want %v", got.GetArtifactType().GetProperties(), tc.wantStored)
			}
		})
	}
}

func TestPutTypeSameNameSameIDPerKind(t *testing.T) {
	e := newEnv(t)
	ctxType := e.contextType("system.PipelineRun")
	execType := e.executionType("system.DAGExecution")
	artType := e.artifactType("system.Artifact")
	if again := e.contextType("system.PipelineRun"); again != ctxType {
		t.Errorf("second PutContextType = %d, want %d", again, ctxType)
	}
	if again := e.executionType("system.DAGExecution"); again != execType {
		t.Errorf("second PutExecutionType = %d, want %d", again, execType)
	}
	// MLMD keeps all types in one table: ids never collide across kinds.
	if ctxType == execType || execType == artType || ctxType == artType {
		t.Errorf("type ids collide across kinds: %d %d %d", ctxType, execType, artType)
	}
	// The same name in another kind is another type.
	if other := e.executionType("system.PipelineRun"); other == ctxType {
		t.Errorf("execution type reused the context type id %d", other)
	}
	byID := must[*mlmd.GetExecutionTypesByIDResponse](t)(e.c.GetExecutionTypesByID(e.ctx, &mlmd.GetExecutionTypesByIDRequest{TypeIds: []int64{execType, ctxType, 999}}))
	if len(byID.GetExecutionTypes()) != 1 || byID.GetExecutionTypes()[0].GetName() != "system.DAGExecution" {
		t.Errorf("GetExecutionTypesByID = %v, want only system.DAGExecution", byID.GetExecutionTypes())
	}
}

func TestGetTypeMissing(t *testing.T) {
	e := newEnv(t)
	e.contextType("system.Pipeline")
	_, err := e.c.GetContextType(e.ctx, &mlmd.GetContextTypeRequest{TypeName: proto.String("system.PipelineRun")})
	wantCode(t, err, codes.NotFound)
	_, err = e.c.GetExecutionType(e.ctx, &mlmd.GetExecutionTypeRequest{TypeName: proto.String("system.DAGExecution")})
	wantCode(t, err, codes.NotFound)
	_, err = e.c.GetArtifactType(e.ctx, &mlmd.GetArtifactTypeRequest{TypeName: proto.String("system.Model")})
	wantCode(t, err, codes.NotFound)
	// A version is part of the type's identity.
	_, err = e.c.GetContextType(e.ctx, &mlmd.GetContextTypeRequest{TypeName: proto.String("system.Pipeline"), TypeVersion: proto.String("v2")})
	wantCode(t, err, codes.NotFound)
}

func TestPutTypesIsAtomic(t *testing.T) {
	e := newEnv(t)
	_, err := e.c.PutTypes(e.ctx, &mlmd.PutTypesRequest{
		ArtifactTypes:  []*mlmd.ArtifactType{{Name: proto.String("system.Dataset")}},
		ExecutionTypes: []*mlmd.ExecutionType{{Name: proto.String("")}},
	})
	wantCode(t, err, codes.InvalidArgument)
	_, err = e.c.GetArtifactType(e.ctx, &mlmd.GetArtifactTypeRequest{TypeName: proto.String("system.Dataset")})
	wantCode(t, err, codes.NotFound)
}

func TestTypeOptionsNotImplemented(t *testing.T) {
	e := newEnv(t)
	_, err := e.c.PutArtifactType(e.ctx, &mlmd.PutArtifactTypeRequest{
		ArtifactType: &mlmd.ArtifactType{Name: proto.String("m"), BaseType: mlmd.ArtifactType_MODEL.Enum()},
	})
	wantCode(t, err, codes.Unimplemented)
	_, err = e.c.PutContextType(e.ctx, &mlmd.PutContextTypeRequest{
		ContextType: &mlmd.ContextType{Name: proto.String("c")}, AllFieldsMatch: proto.Bool(false),
	})
	wantCode(t, err, codes.Unimplemented)
}

func TestTypeListingsAndExternalIDs(t *testing.T) {
	e := newEnv(t)
	put := func(name, ext string) (int64, error) {
		r, err := e.c.PutArtifactType(e.ctx, &mlmd.PutArtifactTypeRequest{ArtifactType: &mlmd.ArtifactType{Name: proto.String(name), ExternalId: proto.String(ext)}})
		return r.GetTypeId(), err
	}
	model := must[int64](t)(put("system.Model", "ext-model"))
	_, err := put("system.Dataset", "ext-model")
	wantCode(t, err, codes.AlreadyExists)
	dataset := must[int64](t)(put("system.Dataset", "ext-dataset"))
	e.executionType("system.DAGExecution")

	all := must[*mlmd.GetArtifactTypesResponse](t)(e.c.GetArtifactTypes(e.ctx, &mlmd.GetArtifactTypesRequest{}))
	if got := idsOf(all.GetArtifactTypes()); len(got) != 2 || got[0] != model || got[1] != dataset {
		t.Errorf("GetArtifactTypes = %v, want [%d %d]", got, model, dataset)
	}
	execTypes := must[*mlmd.GetExecutionTypesResponse](t)(e.c.GetExecutionTypes(e.ctx, &mlmd.GetExecutionTypesRequest{}))
	if len(execTypes.GetExecutionTypes()) != 1 {
		t.Errorf("GetExecutionTypes = %v, want one", execTypes.GetExecutionTypes())
	}
	byExt := must[*mlmd.GetArtifactTypesByExternalIdsResponse](t)(e.c.GetArtifactTypesByExternalIds(e.ctx, &mlmd.GetArtifactTypesByExternalIdsRequest{ExternalIds: []string{"ext-dataset", "nope"}}))
	if got := idsOf(byExt.GetArtifactTypes()); len(got) != 1 || got[0] != dataset {
		t.Errorf("GetArtifactTypesByExternalIds = %v, want [%d]", got, dataset)
	}
	_, err = e.c.GetContextTypesByExternalIds(e.ctx, &mlmd.GetContextTypesByExternalIdsRequest{ExternalIds: []string{"nope"}})
	wantCode(t, err, codes.NotFound)
	_, err = e.c.GetExecutionTypesByExternalIds(e.ctx, &mlmd.GetExecutionTypesByExternalIdsRequest{ExternalIds: []string{""}})
	wantCode(t, err, codes.InvalidArgument)

	// An upsert may move the type to a new external_id.
	if id := must[int64](t)(put("system.Model", "ext-model-2")); id != model {
		t.Fatalf("upsert returned %d, want %d", id, model)
	}
	moved := must[*mlmd.GetArtifactTypesByIDResponse](t)(e.c.GetArtifactTypesByID(e.ctx, &mlmd.GetArtifactTypesByIDRequest{TypeIds: []int64{model}}))
	if moved.GetArtifactTypes()[0].GetExternalId() != "ext-model-2" {
		t.Errorf("external_id after upsert = %q, want ext-model-2", moved.GetArtifactTypes()[0].GetExternalId())
	}
}
