package mlmdserver_test

import (
	"slices"
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestPutArtifactsContract(t *testing.T) {
	e := newEnv(t)
	typeResp := must[*mlmd.PutArtifactTypeResponse](t)(e.c.PutArtifactType(e.ctx, &mlmd.PutArtifactTypeRequest{
		ArtifactType: &mlmd.ArtifactType{Name: proto.String("system.Metrics"), Properties: props("accuracy", mlmd.PropertyType_DOUBLE)},
	}))
	mt := typeResp.GetTypeId()
	named := func(name, ext string) *mlmd.Artifact {
		a := &mlmd.Artifact{TypeId: proto.Int64(mt), Name: proto.String(name)}
		if ext != "" {
			a.ExternalId = proto.String(ext)
		}
		return a
	}
	must[*mlmd.PutArtifactsResponse](t)(e.c.PutArtifacts(e.ctx, &mlmd.PutArtifactsRequest{Artifacts: []*mlmd.Artifact{named("m1", "ext-1")}}))
	tests := []struct {
		name string
		a    *mlmd.Artifact
		want codes.Code
	}{
		{"unnamed", &mlmd.Artifact{TypeId: proto.Int64(mt), Uri: proto.String("minio://x")}, codes.OK},
		{"second unnamed", &mlmd.Artifact{TypeId: proto.Int64(mt), Uri: proto.String("minio://x")}, codes.OK},
		{"duplicate name", named("m1", ""), codes.AlreadyExists},
		{"duplicate external_id", named("m2", "ext-1"), codes.AlreadyExists},
		{"declared property", &mlmd.Artifact{TypeId: proto.Int64(mt), Properties: map[string]*mlmd.Value{"accuracy": {Value: &mlmd.Value_DoubleValue{DoubleValue: 0.9}}}}, codes.OK},
		{"property of the wrong kind", &mlmd.Artifact{TypeId: proto.Int64(mt), Properties: map[string]*mlmd.Value{"accuracy": strV("high")}}, codes.InvalidArgument},
		{"struct custom property", &mlmd.Artifact{TypeId: proto.Int64(mt), CustomProperties: map[string]*mlmd.Value{
			"metadata": {Value: &mlmd.Value_StructValue{StructValue: &structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewStringValue("v")}}}},
		}}, codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.PutArtifacts(e.ctx, &mlmd.PutArtifactsRequest{Artifacts: []*mlmd.Artifact{tc.a}})
			wantCode(t, err, tc.want)
		})
	}
	_, err := e.c.PutArtifacts(e.ctx, &mlmd.PutArtifactsRequest{
		Artifacts:  []*mlmd.Artifact{named("m9", "")},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"uri"}},
	})
	wantCode(t, err, codes.Unimplemented)
}

func TestPutArtifactsAbortIfUpdatedSince(t *testing.T) {
	e := newEnv(t)
	id := e.newArtifact(e.artifactType("system.Artifact"), "minio://v1")
	read := func() *mlmd.Artifact {
		return must[*mlmd.GetArtifactsByIDResponse](t)(e.c.GetArtifactsByID(e.ctx, &mlmd.GetArtifactsByIDRequest{ArtifactIds: []int64{id}})).GetArtifacts()[0]
	}
	opts := &mlmd.PutArtifactsRequest_Options{AbortIfLatestUpdatedTimeChanged: proto.Bool(true)}
	fresh := read()
	fresh.Uri = proto.String("minio://v2")
	must[*mlmd.PutArtifactsResponse](t)(e.c.PutArtifacts(e.ctx, &mlmd.PutArtifactsRequest{Artifacts: []*mlmd.Artifact{fresh}, Options: opts}))
	stale := proto.Clone(fresh).(*mlmd.Artifact) // still carries the v1 update time
	stale.Uri = proto.String("minio://v3")
	_, err := e.c.PutArtifacts(e.ctx, &mlmd.PutArtifactsRequest{Artifacts: []*mlmd.Artifact{stale}, Options: opts})
	wantCode(t, err, codes.FailedPrecondition)
	if got := read().GetUri(); got != "minio://v2" {
		t.Errorf("uri = %q, want minio://v2", got)
	}
}

func TestGetArtifactsReads(t *testing.T) {
	e := newEnv(t)
	dataset, model := e.artifactType("system.Dataset"), e.artifactType("system.Model")
	a1, a2, a3 := e.newArtifact(dataset, "minio://a"), e.newArtifact(model, "minio://b"), e.newArtifact(dataset, "minio://a")

	byID := must[*mlmd.GetArtifactsByIDResponse](t)(e.c.GetArtifactsByID(e.ctx, &mlmd.GetArtifactsByIDRequest{
		ArtifactIds: []int64{a3, 999, a1, a3}, PopulateArtifactTypes: proto.Bool(true),
	}))
	if !slices.Equal(idsOf(byID.GetArtifacts()), []int64{a1, a3}) {
		t.Errorf("GetArtifactsByID = %v, want [%d %d] (unknown skipped, deduplicated)", idsOf(byID.GetArtifacts()), a1, a3)
	}
	if len(byID.GetArtifactTypes()) != 1 || byID.GetArtifactTypes()[0].GetName() != "system.Dataset" {
		t.Errorf("populated types = %v, want system.Dataset", byID.GetArtifactTypes())
	}
	if byID.GetArtifacts()[0].GetType() != "system.Dataset" {
		t.Errorf("artifact type name = %q, want system.Dataset", byID.GetArtifacts()[0].GetType())
	}
	empty := must[*mlmd.GetArtifactsByIDResponse](t)(e.c.GetArtifactsByID(e.ctx, &mlmd.GetArtifactsByIDRequest{}))
	if len(empty.GetArtifacts()) != 0 {
		t.Errorf("GetArtifactsByID() = %v, want none", empty.GetArtifacts())
	}

	byURI := must[*mlmd.GetArtifactsByURIResponse](t)(e.c.GetArtifactsByURI(e.ctx, &mlmd.GetArtifactsByURIRequest{Uris: []string{"minio://a", "minio://zzz"}}))
	if !slices.Equal(idsOf(byURI.GetArtifacts()), []int64{a1, a3}) {
		t.Errorf("GetArtifactsByURI = %v, want [%d %d]", idsOf(byURI.GetArtifacts()), a1, a3)
	}
	byType := must[*mlmd.GetArtifactsByTypeResponse](t)(e.c.GetArtifactsByType(e.ctx, &mlmd.GetArtifactsByTypeRequest{TypeName: proto.String("system.Model")}))
	if !slices.Equal(idsOf(byType.GetArtifacts()), []int64{a2}) {
		t.Errorf("GetArtifactsByType = %v, want [%d]", idsOf(byType.GetArtifacts()), a2)
	}
	missingType := must[*mlmd.GetArtifactsByTypeResponse](t)(e.c.GetArtifactsByType(e.ctx, &mlmd.GetArtifactsByTypeRequest{TypeName: proto.String("nope")}))
	if len(missingType.GetArtifacts()) != 0 {
		t.Errorf("GetArtifactsByType(missing) = %v", missingType.GetArtifacts())
	}
	_, err := e.c.GetArtifactsByExternalIds(e.ctx, &mlmd.GetArtifactsByExternalIdsRequest{ExternalIds: []string{"none"}})
	wantCode(t, err, codes.NotFound)
	_, err = e.c.GetArtifactsByExternalIds(e.ctx, &mlmd.GetArtifactsByExternalIdsRequest{ExternalIds: []string{""}})
	wantCode(t, err, codes.InvalidArgument)
}

func TestEventsContract(t *testing.T) {
	r := newKFPRun(t)
	exec := r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.contType)})
	out := r.newArtifact(r.artType, "minio://out")
	event := func(artifact, execution int64, typ mlmd.Event_Type) *mlmd.Event {
		return &mlmd.Event{ArtifactId: proto.Int64(artifact), ExecutionId: proto.Int64(execution), Type: typ.Enum()}
	}
	tests := []struct {
		name string
		ev   *mlmd.Event
		want codes.Code
	}{
		{"input", event(r.input, exec, mlmd.Event_INPUT), codes.OK},
		{"output", event(out, exec, mlmd.Event_OUTPUT), codes.OK},
		{"same artifact as output of the same execution", event(r.input, exec, mlmd.Event_OUTPUT), codes.OK},
		{"duplicate (artifact, execution, type)", event(r.input, exec, mlmd.Event_INPUT), codes.AlreadyExists},
		{"unknown artifact", event(999, exec, mlmd.Event_INPUT), codes.InvalidArgument},
		{"unknown execution", event(r.input, 999, mlmd.Event_INPUT), codes.InvalidArgument},
		{"no type", &mlmd.Event{ArtifactId: proto.Int64(out), ExecutionId: proto.Int64(exec)}, codes.InvalidArgument},
		{"no execution_id", &mlmd.Event{ArtifactId: proto.Int64(out), Type: mlmd.Event_INPUT.Enum()}, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.c.PutEvents(r.ctx, &mlmd.PutEventsRequest{Events: []*mlmd.Event{tc.ev}})
			wantCode(t, err, tc.want)
		})
	}
	got := must[*mlmd.GetEventsByExecutionIDsResponse](t)(r.c.GetEventsByExecutionIDs(r.ctx, &mlmd.GetEventsByExecutionIDsRequest{ExecutionIds: []int64{exec, 999}}))
	var kinds []mlmd.Event_Type
	for _, ev := range got.GetEvents() {
		kinds = append(kinds, ev.GetType())
	}
	if want := []mlmd.Event_Type{mlmd.Event_INPUT, mlmd.Event_OUTPUT, mlmd.Event_OUTPUT}; !slices.Equal(kinds, want) {
		t.Errorf("events in insertion order = %v, want %v", kinds, want)
	}
	byArtifact := must[*mlmd.GetEventsByArtifactIDsResponse](t)(r.c.GetEventsByArtifactIDs(r.ctx, &mlmd.GetEventsByArtifactIDsRequest{ArtifactIds: []int64{out}}))
	if len(byArtifact.GetEvents()) != 1 {
		t.Errorf("events of artifact %d = %v, want one", out, byArtifact.GetEvents())
	}
}
