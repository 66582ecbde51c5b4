package apipb_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// field is one entry of KFP's wire contract (backend/api/v1beta1/*.proto):
// number, proto name and JSON name must never drift.
type field struct {
	number     protoreflect.FieldNumber
	name, json string
	kind       protoreflect.Kind
	isRepeated bool
}

var contract = map[protoreflect.Message][]field{
	(&apipb.Task{}).ProtoReflect(): {
		{1, "id", "id", protoreflect.StringKind, false},
		{2, "namespace", "namespace", protoreflect.StringKind, false},
		{3, "pipelineName", "pipelineName", protoreflect.StringKind, false},
		{4, "runId", "runId", protoreflect.StringKind, false},
		{5, "mlmdExecutionID", "mlmdExecutionID", protoreflect.StringKind, false},
		{6, "created_at", "created_at", protoreflect.MessageKind, false},
		{7, "finished_at", "finished_at", protoreflect.MessageKind, false},
		{8, "fingerprint", "fingerprint", protoreflect.StringKind, false},
	},
	(&apipb.CreateTaskRequest{}).ProtoReflect(): {
		{1, "task", "task", protoreflect.MessageKind, false},
	},
	(&apipb.ListTasksRequest{}).ProtoReflect(): {
		{1, "page_token", "page_token", protoreflect.StringKind, false},
		{2, "page_size", "page_size", protoreflect.Int32Kind, false},
		{3, "sort_by", "sort_by", protoreflect.StringKind, false},
		{4, "resource_reference_key", "resource_reference_key", protoreflect.MessageKind, false},
		{5, "filter", "filter", protoreflect.StringKind, false},
	},
	(&apipb.ListTasksResponse{}).ProtoReflect(): {
		{1, "tasks", "tasks", protoreflect.MessageKind, true},
		{2, "next_page_token", "next_page_token", protoreflect.StringKind, false},
		{3, "total_size", "total_size", protoreflect.Int32Kind, false},
	},
	(&apipb.ResourceKey{}).ProtoReflect(): {
		{1, "type", "type", protoreflect.EnumKind, false},
		{2, "id", "id", protoreflect.StringKind, false},
	},
	(&apipb.Predicate{}).ProtoReflect(): {
		{1, "op", "op", protoreflect.EnumKind, false},
		{2, "key", "key", protoreflect.StringKind, false},
		{3, "int_value", "intValue", protoreflect.Int32Kind, false},
		{4, "long_value", "longValue", protoreflect.Int64Kind, false},
		{5, "string_value", "stringValue", protoreflect.StringKind, false},
		{6, "timestamp_value", "timestampValue", protoreflect.MessageKind, false},
		{7, "int_values", "intValues", protoreflect.MessageKind, false},
		{8, "long_values", "longValues", protoreflect.MessageKind, false},
		{9, "string_values", "stringValues", protoreflect.MessageKind, false},
	},
	(&apipb.IntValues{}).ProtoReflect():    {{1, "values", "values", protoreflect.Int32Kind, true}},
	(&apipb.StringValues{}).ProtoReflect(): {{2, "values", "values", protoreflect.StringKind, true}},
	(&apipb.LongValues{}).ProtoReflect():   {{3, "values", "values", protoreflect.Int64Kind, true}},
	(&apipb.Filter{}).ProtoReflect():       {{1, "predicates", "predicates", protoreflect.MessageKind, true}},
}

func TestWireContract(t *testing.T) {
	for msg, want := range contract {
		d := msg.Descriptor()
		if d.ParentFile().Package() != "api" {
			t.Errorf("%s: package %q, want api", d.FullName(), d.ParentFile().Package())
		}
		if d.Fields().Len() != len(want) {
			t.Errorf("%s: %d fields, want %d", d.FullName(), d.Fields().Len(), len(want))
		}
		for _, w := range want {
			checkField(t, d, w)
		}
	}
}

func checkField(t *testing.T, d protoreflect.MessageDescriptor, w field) {
	t.Helper()
	f := d.Fields().ByNumber(w.number)
	if f == nil {
		t.Errorf("%s: no field %d", d.FullName(), w.number)
		return
	}
	if string(f.Name()) != w.name || f.JSONName() != w.json || f.Kind() != w.kind || f.IsList() != w.isRepeated {
		t.Errorf("%s.%d = %s/%s %v list=%v, want %s/%s %v list=%v", d.FullName(), w.number,
			f.Name(), f.JSONName(), f.Kind(), f.IsList(), w.name, w.json, w.kind, w.isRepeated)
	}
}

// Enum numbers travel on the wire; names travel in the filter JSON.
func TestEnumContract(t *testing.T) {
	ops := map[apipb.Predicate_Op]string{0: "UNKNOWN", 1: "EQUALS", 2: "NOT_EQUALS", 3: "GREATER_THAN",
		5: "GREATER_THAN_EQUALS", 6: "LESS_THAN", 7: "LESS_THAN_EQUALS", 8: "IN", 9: "IS_SUBSTRING"}
	for n, name := range ops {
		if n.String() != name {
			t.Errorf("Predicate.Op %d = %s, want %s", n, n, name)
		}
	}
	types := map[apipb.ResourceType]string{0: "UNKNOWN_RESOURCE_TYPE", 1: "EXPERIMENT", 2: "JOB",
		3: "PIPELINE", 4: "PIPELINE_VERSION", 5: "NAMESPACE"}
	for n, name := range types {
		if n.String() != name {
			t.Errorf("ResourceType %d = %s, want %s", n, n, name)
		}
	}
}

// The gRPC paths KFP's client and server use.
func TestMethodPaths(t *testing.T) {
	if apipb.TaskService_ListTasksV1_FullMethodName != "/api.TaskService/ListTasksV1" ||
		apipb.TaskService_CreateTaskV1_FullMethodName != "/api.TaskService/CreateTaskV1" {
		t.Errorf("paths %s, %s", apipb.TaskService_ListTasksV1_FullMethodName, apipb.TaskService_CreateTaskV1_FullMethodName)
	}
}
