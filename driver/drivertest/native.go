package drivertest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/publish"
)

// NativeLauncher stands in for KFP master's launcher (the native line): it
// publishes a task's outputs through the KFP API server's task and artifact
// APIs as the real one does after the user code ran (output artifacts
// created as the task's outputs, output parameters and the final state on
// the task) and settles the parent DAG tasks' states. It uses plain gRPC
// clients, not the driver's API client, so it checks the driver rather
// than sharing its assumptions.
type NativeLauncher struct {
	Conn grpc.ClientConnInterface
	// Namespace is where artifacts are created when the launch names none.
	Namespace string
	Now       func() time.Time
}

func (l *NativeLauncher) runs() pb.RunServiceClient { return pb.NewRunServiceClient(l.Conn) }

func (l *NativeLauncher) artifacts() pb.ArtifactServiceClient {
	return pb.NewArtifactServiceClient(l.Conn)
}

func (l *NativeLauncher) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Complete publishes a task as KFP master's launcher does after the user
// code ran. launch must come from a native pod spec patch; its Component
// (for list outputs) may be nil.
func (l *NativeLauncher) Complete(ctx context.Context, launch *Launch, out Outcome) error {
	if launch.TaskID == "" || launch.RunID == "" {
		return fmt.Errorf("native launcher: the launch names no task or run (is it an MLMD launch?)")
	}
	reqs, err := l.outputArtifacts(launch, out)
	if err != nil {
		return err
	}
	if len(reqs) > 0 {
		if _, err := l.artifacts().CreateArtifactsBulk(ctx, &pb.CreateArtifactsBulkRequest{Artifacts: reqs}); err != nil {
			return fmt.Errorf("native launcher: task %s: creating output artifacts: %w", launch.TaskID, err)
		}
	}
	update := &pb.PipelineTask{TaskId: launch.TaskID, RunId: launch.RunID, State: pb.PipelineTask_SUCCEEDED,
		EndTime: timestamppb.New(l.now()),
		Pods:    []*pb.PipelineTask_TaskPod{{Name: "pod-" + launch.TaskID, Uid: "uid-" + launch.TaskID, Type: pb.PipelineTask_EXECUTOR}}}
	if out.Failed {
		update.State = pb.PipelineTask_FAILED
		update.StatusMetadata = &pb.PipelineTask_StatusMetadata{Message: "the user code failed"}
	} else if params := outputParams(launch, out); len(params) > 0 {
		update.Outputs = &pb.PipelineTask_InputOutputs{Parameters: params}
	}
	if _, err := l.runs().UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: launch.RunID, TaskId: launch.TaskID, Task: update}); err != nil {
		return fmt.Errorf("native launcher: task %s: recording outputs and state %s: %w", launch.TaskID, update.State, err)
	}
	return l.Settle(ctx, launch.RunID, launch.ParentTaskID)
}

// outputParams are the declared output parameters the user code produced,
// as KFP's launcher records them: OUTPUT, or ITERATOR_OUTPUT with the
// iteration in a loop, produced by the task's key.
func outputParams(launch *Launch, out Outcome) []*pb.PipelineTask_InputOutputs_IOParameter {
	var params []*pb.PipelineTask_InputOutputs_IOParameter
	for _, name := range slices.Sorted(maps.Keys(launch.Input.GetOutputs().GetParameters())) {
		v, ok := out.Parameters[name]
		if !ok {
			continue
		}
		p := &pb.PipelineTask_InputOutputs_IOParameter{ParameterKey: name, Value: v, Type: pb.IOType_OUTPUT,
			Producer: &pb.IOProducer{TaskName: launch.TaskName}}
		if launch.IterationIndex >= 0 {
			i := int64(launch.IterationIndex)
			p.Type, p.Producer.Iteration = pb.IOType_ITERATOR_OUTPUT, &i
		}
		params = append(params, p)
	}
	return params
}

// outputArtifacts are the create requests for the task's output artifacts
// (only the logs when it failed), one per list element for list outputs,
// as the MLMD stand-in registers them.
func (l *NativeLauncher) outputArtifacts(launch *Launch, out Outcome) ([]*pb.CreateArtifactRequest, error) {
	defs := launch.Component.GetOutputDefinitions().GetArtifacts()
	var reqs []*pb.CreateArtifactRequest
	for _, key := range slices.Sorted(maps.Keys(launch.Input.GetOutputs().GetArtifacts())) {
		if out.Failed && key != executor.LogsArtifact {
			continue
		}
		list := launch.Input.GetOutputs().GetArtifacts()[key].GetArtifacts()
		if len(list) == 0 {
			return nil, fmt.Errorf("native launcher: task %s: output artifact %q has no runtime artifact", launch.TaskID, key)
		}
		ra, n := list[0], 1
		if defs[key].GetIsArtifactList() {
			if n = out.ListSize; n == 0 {
				n = 2
			}
		}
		for i := range n {
			uri := ra.GetUri()
			if n > 1 {
				uri += "/" + strconv.Itoa(i)
			}
			for _, a := range apiArtifacts(ra, key, uri, cmp.Or(launch.Namespace, l.Namespace)) {
				r := &pb.CreateArtifactRequest{RunId: launch.RunID, TaskId: launch.TaskID, ProducerKey: key, Artifact: a}
				if launch.IterationIndex >= 0 {
					it := int64(launch.IterationIndex)
					r.IterationIndex = &it
				}
				reqs = append(reqs, r)
			}
		}
	}
	return reqs, nil
}

// schemaTitleKey keeps a custom schema title on a generic artifact, as
// KFP's launcher does.
const schemaTitleKey = "_kfp_schema_title"

// apiArtifacts is one output artifact as KFP's launcher records it: a
// metrics artifact becomes one URI-less artifact per numeric metadata
// field (none without), anything else one artifact with its URI.
func apiArtifacts(ra *pipelinespec.RuntimeArtifact, key, uri, namespace string) []*pb.Artifact {
	title := schemaTitle(ra)
	typ := kfpapi.ArtifactType(title)
	md := maps.Clone(ra.GetMetadata().GetFields())
	if typ == pb.Artifact_Metric {
		var out []*pb.Artifact
		for _, k := range slices.Sorted(maps.Keys(md)) {
			if n, ok := md[k].GetKind().(*structpb.Value_NumberValue); ok {
				out = append(out, &pb.Artifact{Name: k, Type: typ, NumberValue: &n.NumberValue, Namespace: namespace,
					Metadata: map[string]*structpb.Value{k: md[k]}})
			}
		}
		return out
	}
	if kfpapi.SchemaTitle(typ) != title {
		if md == nil {
			md = map[string]*structpb.Value{}
		}
		md[schemaTitleKey] = structpb.NewStringValue(title)
	}
	name := ra.GetName()
	if name == "" {
		name = key
	}
	return []*pb.Artifact{{Name: name, Type: typ, Uri: &uri, Metadata: md, Namespace: namespace}}
}

// Settle updates the states of the DAG task dag and its ancestors as KFP's
// launcher does after a task finished, by the rule the driver settles
// with (kfpapi/publish, apirecords.SettleDAGs).
func (l *NativeLauncher) Settle(ctx context.Context, runID, dag string) error {
	if err := publish.Settle(ctx, kfpapi.New(l.Conn, "kfp-api-test-server", nil), runID, dag); err != nil {
		return fmt.Errorf("native launcher: settling DAG task %s: %w", dag, err)
	}
	return nil
}
