package kfpapipb_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	kfpapipb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// enums lists every value of every enum, as numbered in KFP's v2beta1 protos
// (numbers travel on the wire, names in JSON filters and logs).
var enums = map[string][]string{
	"IOType": {"UNSPECIFIED", "COMPONENT_DEFAULT_INPUT", "TASK_OUTPUT_INPUT", "COMPONENT_INPUT",
		"RUNTIME_VALUE_INPUT", "COLLECTED_INPUTS", "ITERATOR_INPUT", "ITERATOR_INPUT_RAW",
		"ITERATOR_OUTPUT", "OUTPUT", "ONE_OF_OUTPUT", "TASK_FINAL_STATUS_OUTPUT"},
	"RuntimeState": {"RUNTIME_STATE_UNSPECIFIED", "PENDING", "RUNNING", "SUCCEEDED", "SKIPPED",
		"FAILED", "CANCELING", "CANCELED", "PAUSED"},
	"Run.StorageState":         {"STORAGE_STATE_UNSPECIFIED", "AVAILABLE", "ARCHIVED"},
	"PipelineTask.TaskPodType": {"UNSPECIFIED", "DRIVER", "EXECUTOR"},
	"PipelineTask.TaskState":   {"RUNTIME_STATE_UNSPECIFIED", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED", "CACHED"},
	"PipelineTask.TaskType": {"TASK_TYPE_UNSPECIFIED", "ROOT", "RUNTIME", "CONDITION_BRANCH", "CONDITION",
		"LOOP", "EXIT_HANDLER", "IMPORTER", "DAG"},
	"GetRunRequest.ViewMode": {"DEFAULT", "FULL"},
	"Artifact.ArtifactType": {"TYPE_UNSPECIFIED", "Artifact", "Model", "Dataset", "HTML", "Markdown",
		"Metric", "ClassificationMetric", "SlicedClassificationMetric"},
}

func TestEnumContract(t *testing.T) {
	for name, want := range enums {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(pkg + "." + name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		values := desc.(protoreflect.EnumDescriptor).Values()
		if values.Len() != len(want) {
			t.Errorf("%s: %d values, want %d", name, values.Len(), len(want))
		}
		for n, v := range want {
			if got := values.ByNumber(protoreflect.EnumNumber(n)); got == nil || string(got.Name()) != v {
				t.Errorf("%s %d = %v, want %s", name, n, got, v)
			}
		}
	}
	// Predicate.Operation skips 4.
	ops := map[kfpapipb.Predicate_Operation]string{0: "OPERATION_UNSPECIFIED", 1: "EQUALS", 2: "NOT_EQUALS",
		3: "GREATER_THAN", 5: "GREATER_THAN_EQUALS", 6: "LESS_THAN", 7: "LESS_THAN_EQUALS", 8: "IN", 9: "IS_SUBSTRING"}
	if n := kfpapipb.Predicate_Operation(0).Descriptor().Values().Len(); n != len(ops) {
		t.Errorf("Predicate.Operation has %d values, want %d", n, len(ops))
	}
	for n, name := range ops {
		if n.String() != name {
			t.Errorf("Predicate.Operation %d = %s, want %s", n, n, name)
		}
	}
}

// The gRPC paths KFP's clients and server use; a renamed service or method
// would compile and then answer Unimplemented.
func TestMethodPaths(t *testing.T) {
	const p = "/kubeflow.pipelines.backend.api.v2beta1."
	paths := map[string]string{
		kfpapipb.RunService_GetRun_FullMethodName:                       p + "RunService/GetRun",
		kfpapipb.RunService_CreateTask_FullMethodName:                   p + "RunService/CreateTask",
		kfpapipb.RunService_UpdateTask_FullMethodName:                   p + "RunService/UpdateTask",
		kfpapipb.RunService_UpdateTasksBulk_FullMethodName:              p + "RunService/UpdateTasksBulk",
		kfpapipb.RunService_GetTask_FullMethodName:                      p + "RunService/GetTask",
		kfpapipb.RunService_ListTasks_FullMethodName:                    p + "RunService/ListTasks",
		kfpapipb.RunService_FindCachedTask_FullMethodName:               p + "RunService/FindCachedTask",
		kfpapipb.ArtifactService_ListArtifacts_FullMethodName:           p + "ArtifactService/ListArtifacts",
		kfpapipb.ArtifactService_GetArtifact_FullMethodName:             p + "ArtifactService/GetArtifact",
		kfpapipb.ArtifactService_CreateArtifact_FullMethodName:          p + "ArtifactService/CreateArtifact",
		kfpapipb.ArtifactService_CreateArtifactsBulk_FullMethodName:     p + "ArtifactService/CreateArtifactsBulk",
		kfpapipb.ArtifactService_ListArtifactTasks_FullMethodName:       p + "ArtifactService/ListArtifactTasks",
		kfpapipb.ArtifactService_CreateArtifactTask_FullMethodName:      p + "ArtifactService/CreateArtifactTask",
		kfpapipb.ArtifactService_CreateArtifactTasksBulk_FullMethodName: p + "ArtifactService/CreateArtifactTasksBulk",
		kfpapipb.PipelineService_GetPipelineVersion_FullMethodName:      p + "PipelineService/GetPipelineVersion",
	}
	for got, want := range paths {
		if got != want {
			t.Errorf("method path %s, want %s", got, want)
		}
	}
	// Request and response types are part of the contract too.
	io := map[string][2]string{
		"RunService.GetRun":                       {"GetRunRequest", "Run"},
		"RunService.CreateTask":                   {"CreateTaskRequest", "PipelineTask"},
		"RunService.UpdateTask":                   {"UpdateTaskRequest", "PipelineTask"},
		"RunService.UpdateTasksBulk":              {"UpdateTasksBulkRequest", "UpdateTasksBulkResponse"},
		"RunService.GetTask":                      {"GetTaskRequest", "PipelineTask"},
		"RunService.ListTasks":                    {"ListTasksRequest", "ListTasksResponse"},
		"RunService.FindCachedTask":               {"FindCachedTaskRequest", "FindCachedTaskResponse"},
		"ArtifactService.ListArtifacts":           {"ListArtifactRequest", "ListArtifactResponse"},
		"ArtifactService.GetArtifact":             {"GetArtifactRequest", "Artifact"},
		"ArtifactService.CreateArtifact":          {"CreateArtifactRequest", "Artifact"},
		"ArtifactService.CreateArtifactsBulk":     {"CreateArtifactsBulkRequest", "CreateArtifactsBulkResponse"},
		"ArtifactService.ListArtifactTasks":       {"ListArtifactTasksRequest", "ListArtifactTasksResponse"},
		"ArtifactService.CreateArtifactTask":      {"CreateArtifactTaskRequest", "ArtifactTask"},
		"ArtifactService.CreateArtifactTasksBulk": {"CreateArtifactTasksBulkRequest", "CreateArtifactTasksBulkResponse"},
		"PipelineService.GetPipelineVersion":      {"GetPipelineVersionRequest", "PipelineVersion"},
	}
	for name, want := range io {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(pkg + "." + name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		m := desc.(protoreflect.MethodDescriptor)
		if relative(m.Input().FullName()) != want[0] || relative(m.Output().FullName()) != want[1] ||
			m.IsStreamingClient() || m.IsStreamingServer() {
			t.Errorf("%s(%s) returns %s, want (%s) %s", name, m.Input().FullName(), m.Output().FullName(), want[0], want[1])
		}
	}
}
