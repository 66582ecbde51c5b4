package mlmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"
)

// MLMD type names, as KFP's driver and launcher register them.
const (
	PipelineContextType    = "system.Pipeline"
	RunContextType         = "system.PipelineRun"
	DAGExecutionType       = "system.DAGExecution"
	ContainerExecutionType = "system.ContainerExecution"
	ImporterExecutionType  = "system.ImporterExecution"
	WorkspaceImporterType  = "system.ImporterWorkspaceExecution"
)

// Custom property names KFP's driver, launcher and UI share.
const (
	PropDisplayName          = "display_name"
	PropTaskName             = "task_name"
	PropParentDAGID          = "parent_dag_id"
	PropIterationIndex       = "iteration_index"
	PropIterationCount       = "iteration_count"
	PropTotalDAGTasks        = "total_dag_tasks"
	PropInputs               = "inputs"
	PropOutputs              = "outputs"
	PropParameterProducer    = "parameter_producer_task"
	PropArtifactProducer     = "artifact_producer_task"
	PropPodName              = "pod_name"
	PropPodUID               = "pod_uid"
	PropNamespace            = "namespace"
	PropImage                = "image"
	PropCacheFingerprint     = "cache_fingerprint"
	PropCachedExecutionID    = "cached_execution_id"
	PropResourceName         = "resource_name"
	PropPipelineRoot         = "pipeline_root"
	PropStoreSessionInfo     = "store_session_info"
	PropDriverLogsURI        = "driver_logs_uri" // the step's driver log; KFP's UI shows it
	artifactDisplayNameProp  = "display_name"
	maxExecutionNameLength   = 255
	hashedExecutionNameInfix = "/h/"
)

// RootExecutionName is KFP's name of a run's root DAG execution.
func RootExecutionName(runID string) string { return "run/" + runID }

// ExecutionName is the deterministic name of a non-root driver execution
// (see the package doc). iteration < 0 means "not an iteration".
func ExecutionName(runID string, parentDAGID int64, taskName string, iteration int) string {
	name := fmt.Sprintf("run/%s/dag/%d/task/%s", runID, parentDAGID, taskName)
	if iteration >= 0 {
		name += "/iteration/" + strconv.Itoa(iteration)
	}
	if len(name) <= maxExecutionNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return RootExecutionName(runID) + hashedExecutionNameInfix + hex.EncodeToString(sum[:])
}

// StringValue, IntValue and StructValue build MLMD property values.
func StringValue(s string) *pb.Value {
	return &pb.Value{Value: &pb.Value_StringValue{StringValue: s}}
}

// IntValue builds an MLMD int property value.
func IntValue(i int64) *pb.Value { return &pb.Value{Value: &pb.Value_IntValue{IntValue: i}} }

// StructValue builds an MLMD struct property value from protobuf values.
func StructValue(fields map[string]*structpb.Value) *pb.Value {
	return &pb.Value{Value: &pb.Value_StructValue{StructValue: &structpb.Struct{Fields: fields}}}
}

func stringProp(props map[string]*pb.Value, key string) string {
	return props[key].GetStringValue()
}

func intProp(props map[string]*pb.Value, key string) (int64, bool) {
	v, ok := props[key]
	if !ok {
		return 0, false
	}
	if iv, ok := v.GetValue().(*pb.Value_IntValue); ok {
		return iv.IntValue, true
	}
	return 0, false
}
