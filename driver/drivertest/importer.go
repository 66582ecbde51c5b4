package drivertest

import (
	"context"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// Import stands in for the launcher in importer mode (importer tasks have
// no driver): it registers the artifact and an unnamed, COMPLETE importer
// execution with one OUTPUT event, keyed by the task's display name as KFP
// does.
func (l *Launcher) Import(ctx context.Context, run *mlmd.Run, parent *mlmd.Execution, task *pipelinespec.PipelineTaskSpec,
	spec *pipelinespec.PipelineDeploymentConfig_ImporterSpec, outputKey string) error {
	uri := spec.GetArtifactUri().GetConstant().GetStringValue()
	if p := spec.GetArtifactUri().GetRuntimeParameter(); p != "" {
		uri = parentInput(task, parent, p)
	}
	if uri == "" {
		return fmt.Errorf("importer %q: no artifact URI", task.GetTaskInfo().GetName())
	}
	title := spec.GetTypeSchema().GetSchemaTitle()
	if title == "" {
		title = "system.Artifact"
	}
	ids, err := l.MLMD.PutArtifacts(ctx, title, &pb.Artifact{Uri: proto.String(uri), State: pb.Artifact_LIVE.Enum(),
		CustomProperties: map[string]*pb.Value{"display_name": mlmd.StringValue(outputKey)}})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("importer/%s/%d/%s", run.ID, parent.ID(), task.GetTaskInfo().GetName())
	_, _, err = l.MLMD.CreateExecution(ctx, run, mlmd.NewExecution{
		TypeName: mlmd.ImporterExecutionType, Name: name, State: pb.Execution_COMPLETE,
		Props: map[string]*pb.Value{
			mlmd.PropTaskName:    mlmd.StringValue(task.GetTaskInfo().GetName()),
			mlmd.PropParentDAGID: mlmd.IntValue(parent.ID()),
		},
		Outputs: []mlmd.ArtifactRef{{Key: outputKey, ArtifactID: ids[0]}},
	})
	if err != nil {
		return err
	}
	return l.MLMD.PropagateDAGState(ctx, run, parent.ID())
}

// parentInput is the importer's URI input: wired from the parent DAG or a
// constant on the task.
func parentInput(task *pipelinespec.PipelineTaskSpec, parent *mlmd.Execution, name string) string {
	spec := task.GetInputs().GetParameters()[name]
	if p := spec.GetComponentInputParameter(); p != "" {
		return parent.Inputs()[p].GetStringValue()
	}
	return spec.GetRuntimeValue().GetConstant().GetStringValue()
}
