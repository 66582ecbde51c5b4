package kfpapipb_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	kfpapipb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

const pkg = "kubeflow.pipelines.backend.api.v2beta1"

// contract lists, per message, its field declarations as they read in KFP's
// backend/api/v2beta1/{run,artifact,pipeline,filter,runtime_config}.proto at
// 6585b5143d67 (upstream PR #13986), with type names qualified from the
// package. declaration renders our descriptors the same way, so any drift in
// a number, name, type, label or oneof fails, and so does a field we add or
// drop.
var contract = map[string][]string{
	"RuntimeConfig": {
		"map<string, google.protobuf.Value> parameters = 1",
		"string pipeline_root = 2",
	},
	"Run": {
		"string experiment_id = 1",
		"string run_id = 2",
		"string display_name = 3",
		"Run.StorageState storage_state = 4",
		"string description = 5",
		"oneof pipeline_source string pipeline_version_id = 6",
		"oneof pipeline_source google.protobuf.Struct pipeline_spec = 7",
		"RuntimeConfig runtime_config = 8",
		"string service_account = 9",
		"google.protobuf.Timestamp created_at = 10",
		"google.protobuf.Timestamp scheduled_at = 11",
		"google.protobuf.Timestamp finished_at = 12",
		"RuntimeState state = 13",
		"google.rpc.Status error = 14",
		"string recurring_run_id = 16",
		"repeated RuntimeStatus state_history = 17",
		"oneof pipeline_source PipelineVersionReference pipeline_version_reference = 18",
		"PipelineVersionReference pipeline_reference = 21",
		"int32 task_count = 22",
		"repeated PipelineTask tasks = 23",
	},
	"PipelineVersionReference": {
		"string pipeline_id = 1",
		"string pipeline_version_id = 2",
	},
	"RuntimeStatus": {
		"google.protobuf.Timestamp update_time = 1",
		"RuntimeState state = 2",
		"google.rpc.Status error = 3",
	},
	"PipelineTask": {
		"string name = 1",
		"string display_name = 2",
		"string task_id = 3",
		"string run_id = 4",
		"repeated PipelineTask.TaskPod pods = 5",
		"string cache_fingerprint = 6",
		"google.protobuf.Timestamp create_time = 7",
		"google.protobuf.Timestamp end_time = 8",
		"PipelineTask.TaskState state = 9",
		"PipelineTask.StatusMetadata status_metadata = 10",
		"repeated PipelineTask.TaskStatus state_history = 11",
		"PipelineTask.TaskType type = 12",
		"PipelineTask.TypeAttributes type_attributes = 13",
		"optional string parent_task_id = 14",
		"repeated PipelineTask.ChildTask child_tasks = 15",
		"PipelineTask.InputOutputs inputs = 16",
		"PipelineTask.InputOutputs outputs = 17",
		"string scope_path = 18",
	},
	"PipelineTask.TaskPod": {
		"string name = 1",
		"string uid = 2",
		"PipelineTask.TaskPodType type = 3",
	},
	"PipelineTask.StatusMetadata": {
		"string message = 1",
		"map<string, google.protobuf.Value> custom_properties = 2",
	},
	"PipelineTask.TaskStatus": {
		"google.protobuf.Timestamp update_time = 1",
		"PipelineTask.TaskState state = 2",
		"google.rpc.Status error = 3",
	},
	"PipelineTask.TypeAttributes": {
		"optional int64 iteration_index = 1",
		"optional int64 iteration_count = 2",
		"optional bool download_to_workspace = 3",
	},
	"PipelineTask.ChildTask": {
		"string task_id = 1",
		"string name = 2",
	},
	"PipelineTask.InputOutputs": {
		"repeated PipelineTask.InputOutputs.IOParameter parameters = 1",
		"repeated PipelineTask.InputOutputs.IOArtifact artifacts = 2",
	},
	"PipelineTask.InputOutputs.IOParameter": {
		"google.protobuf.Value value = 1",
		"IOType type = 2",
		"string parameter_key = 3",
		"optional IOProducer producer = 4",
	},
	"PipelineTask.InputOutputs.IOArtifact": {
		"repeated Artifact artifacts = 1",
		"IOType type = 2",
		"string artifact_key = 3",
		"IOProducer producer = 4",
	},
	"GetRunRequest": {
		"string experiment_id = 1",
		"string run_id = 2",
		"optional GetRunRequest.ViewMode view = 3",
	},
	"CreateTaskRequest": {
		"PipelineTask task = 1",
		"string run_id = 2",
	},
	"UpdateTaskRequest": {
		"string task_id = 1",
		"PipelineTask task = 2",
		"string run_id = 3",
	},
	"UpdateTasksBulkRequest": {
		"map<string, PipelineTask> tasks = 1",
		"string run_id = 2",
	},
	"UpdateTasksBulkResponse": {
		"map<string, PipelineTask> tasks = 1",
	},
	"GetTaskRequest": {
		"string task_id = 1",
		"string run_id = 2",
	},
	"ListTasksRequest": {
		"oneof parent_filter string parent_id = 1",
		"string run_id = 2",
		"int32 page_size = 4",
		"string page_token = 5",
		"string filter = 6",
		"string order_by = 7",
	},
	"ListTasksResponse": {
		"repeated PipelineTask tasks = 1",
		"string next_page_token = 2",
		"int32 total_size = 3",
	},
	"FindCachedTaskRequest": {
		"string namespace = 1",
		"string cache_fingerprint = 2",
	},
	"FindCachedTaskResponse": {
		"PipelineTask task = 1",
	},
	"CreateArtifactRequest": {
		"Artifact artifact = 1",
		"string run_id = 2",
		"string task_id = 3",
		"string producer_key = 5",
		"optional int64 iteration_index = 6",
		"bool reuse_if_exists = 7",
	},
	"CreateArtifactsBulkRequest":  {"repeated CreateArtifactRequest artifacts = 1"},
	"CreateArtifactsBulkResponse": {"repeated Artifact artifacts = 1"},
	"GetArtifactRequest":          {"string artifact_id = 1"},
	"ListArtifactRequest": {
		"string namespace = 1",
		"string page_token = 2",
		"int32 page_size = 3",
		"string sort_by = 4",
		"string filter = 5",
	},
	"ListArtifactResponse": {
		"repeated Artifact artifacts = 1",
		"int32 total_size = 2",
		"string next_page_token = 3",
	},
	"ListArtifactTasksRequest": {
		"repeated string task_ids = 1",
		"repeated string run_ids = 2",
		"repeated string artifact_ids = 3",
		"IOType type = 4",
		"string page_token = 5",
		"int32 page_size = 6",
		"string sort_by = 7",
		"string filter = 8",
	},
	"ListArtifactTasksResponse": {
		"repeated ArtifactTask artifact_tasks = 1",
		"int32 total_size = 2",
		"string next_page_token = 3",
	},
	"CreateArtifactTaskRequest":       {"ArtifactTask artifact_task = 1"},
	"CreateArtifactTasksBulkRequest":  {"repeated ArtifactTask artifact_tasks = 1"},
	"CreateArtifactTasksBulkResponse": {"repeated ArtifactTask artifact_tasks = 1"},
	"IOProducer": {
		"string task_name = 1",
		"optional int64 iteration = 2",
	},
	"ArtifactTask": {
		"string id = 1",
		"string artifact_id = 2",
		"string run_id = 3",
		"string task_id = 4",
		"IOType type = 5",
		"IOProducer producer = 6",
		"string key = 7",
	},
	"Artifact": {
		"string artifact_id = 1",
		"string name = 2",
		"string description = 3",
		"Artifact.ArtifactType type = 4",
		"optional string uri = 5",
		"map<string, google.protobuf.Value> metadata = 6",
		"optional double number_value = 7",
		"google.protobuf.Timestamp created_at = 8",
		"string namespace = 9",
	},
	"GetPipelineVersionRequest": {
		"string pipeline_id = 1",
		"string pipeline_version_id = 2",
	},
	"PipelineVersion": {
		"string pipeline_id = 1",
		"string pipeline_version_id = 2",
		"string display_name = 3",
		"string description = 4",
		"google.protobuf.Timestamp created_at = 5",
		"Url package_url = 6",
		"google.protobuf.Struct pipeline_spec = 7",
		"google.rpc.Status error = 8",
		"string code_source_url = 9",
		"string name = 10",
		"map<string, string> tags = 11",
	},
	"Url":    {"string pipeline_url = 1"},
	"Filter": {"repeated Predicate predicates = 1"},
	"Predicate": {
		"Predicate.Operation operation = 1",
		"string key = 2",
		"oneof value int32 int_value = 3",
		"oneof value int64 long_value = 4",
		"oneof value string string_value = 5",
		"oneof value google.protobuf.Timestamp timestamp_value = 6",
		"oneof value Predicate.IntValues int_values = 7",
		"oneof value Predicate.LongValues long_values = 8",
		"oneof value Predicate.StringValues string_values = 9",
	},
	"Predicate.IntValues":    {"repeated int32 values = 1"},
	"Predicate.StringValues": {"repeated string values = 2"},
	"Predicate.LongValues":   {"repeated int64 values = 3"},
}

func TestWireContract(t *testing.T) {
	for name, want := range contract {
		d := message(t, name)
		if d == nil {
			continue
		}
		var got []string
		for i := 0; i < d.Fields().Len(); i++ {
			got = append(got, declaration(d.Fields().Get(i)))
		}
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
}

// Every message we define must be in the contract: an unchecked message
// could drift silently.
func TestContractCoversEveryMessage(t *testing.T) {
	protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(f.Path(), "kfpapi/proto/") {
			t.Errorf("%s registers package %s", f.Path(), pkg)
		}
		walkMessages(f.Messages(), func(m protoreflect.MessageDescriptor) {
			if m.IsMapEntry() {
				return
			}
			if _, ok := contract[relative(m.FullName())]; !ok {
				t.Errorf("%s is not in the contract table", m.FullName())
			}
		})
		return true
	})
}

func walkMessages(ms protoreflect.MessageDescriptors, f func(protoreflect.MessageDescriptor)) {
	for i := 0; i < ms.Len(); i++ {
		f(ms.Get(i))
		walkMessages(ms.Get(i).Messages(), f)
	}
}

// The Run fields we leave out must stay reserved, so that no later edit
// reuses KFP's numbers for something else.
func TestRunOmittedFieldsReserved(t *testing.T) {
	d := (&kfpapipb.Run{}).ProtoReflect().Descriptor()
	for _, n := range []protoreflect.FieldNumber{15, 19, 20} {
		if !d.ReservedRanges().Has(n) {
			t.Errorf("Run field %d is not reserved", n)
		}
	}
	if !(&kfpapipb.ListTasksRequest{}).ProtoReflect().Descriptor().ReservedRanges().Has(3) {
		t.Error("ListTasksRequest field 3 is not reserved")
	}
}

func message(t *testing.T, name string) protoreflect.MessageDescriptor {
	t.Helper()
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(pkg + "." + name))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return nil
	}
	return desc.(protoreflect.MessageDescriptor)
}

// declaration renders f like a .proto field line.
func declaration(f protoreflect.FieldDescriptor) string {
	var prefix string
	switch {
	case f.IsMap():
		return fmt.Sprintf("map<%s, %s> %s = %d", typeName(f.MapKey()), typeName(f.MapValue()), f.Name(), f.Number())
	case f.IsList():
		prefix = "repeated "
	case f.HasOptionalKeyword():
		prefix = "optional "
	case f.ContainingOneof() != nil:
		prefix = "oneof " + string(f.ContainingOneof().Name()) + " "
	}
	return fmt.Sprintf("%s%s %s = %d", prefix, typeName(f), f.Name(), f.Number())
}

func typeName(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return relative(f.Message().FullName())
	case protoreflect.EnumKind:
		return relative(f.Enum().FullName())
	default:
		return f.Kind().String()
	}
}

func relative(n protoreflect.FullName) string {
	return strings.TrimPrefix(string(n), pkg+".")
}
