package drivertest

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// NativeImport is one importer task on the native line (importers have
// no driver: KFP master's launcher in importer mode creates their task).
type NativeImport struct {
	RunID        string
	Namespace    string // "": the launcher's
	ParentTaskID string
	TaskName     string // the task's key in its DAG
	Task         *pipelinespec.PipelineTaskSpec
	Spec         *pipelinespec.PipelineDeploymentConfig_ImporterSpec
	OutputKey    string
	// IterationIndex is the loop iteration the importer runs in, -1 for none.
	IterationIndex int
}

// Import stands in for KFP master's importer launcher: it creates the
// IMPORTER task under the parent (the server answers a repeat with the
// stored task), creates the artifact as its output (shared with an equal
// one unless the spec reimports), marks the task succeeded and settles the
// parent DAGs.
func (l *NativeLauncher) Import(ctx context.Context, imp NativeImport) (*pb.PipelineTask, error) {
	parent, err := l.runs().GetTask(ctx, &pb.GetTaskRequest{RunId: imp.RunID, TaskId: imp.ParentTaskID})
	if err != nil {
		return nil, fmt.Errorf("native importer %q: reading the parent task: %w", imp.TaskName, err)
	}
	uri, err := importURI(imp, parent)
	if err != nil {
		return nil, err
	}
	attrs := &pb.PipelineTask_TypeAttributes{}
	var iteration *int64
	if imp.IterationIndex >= 0 {
		i := int64(imp.IterationIndex)
		iteration, attrs.IterationIndex = &i, &i
	}
	task, err := l.runs().CreateTask(ctx, &pb.CreateTaskRequest{RunId: imp.RunID, Task: &pb.PipelineTask{
		Name: imp.TaskName, DisplayName: imp.Task.GetTaskInfo().GetName(), RunId: imp.RunID,
		ParentTaskId: &imp.ParentTaskID, Type: pb.PipelineTask_IMPORTER, State: pb.PipelineTask_RUNNING,
		ScopePath: parent.GetScopePath() + "." + imp.TaskName, CreateTime: timestamppb.New(l.now().Truncate(time.Second)),
		TypeAttributes: attrs,
	}})
	if err != nil {
		return nil, fmt.Errorf("native importer %q: creating its task: %w", imp.TaskName, err)
	}
	title := imp.Spec.GetTypeSchema().GetSchemaTitle()
	if title == "" {
		title = "system.Artifact"
	}
	typ := kfpapi.ArtifactType(title)
	md := map[string]*structpb.Value{}
	for k, v := range imp.Spec.GetMetadata().GetFields() {
		md[k] = v
	}
	if kfpapi.SchemaTitle(typ) != title {
		md[schemaTitleKey] = structpb.NewStringValue(title)
	}
	_, err = l.artifacts().CreateArtifact(ctx, &pb.CreateArtifactRequest{RunId: imp.RunID, TaskId: task.GetTaskId(),
		ProducerKey: imp.OutputKey, IterationIndex: iteration, ReuseIfExists: !imp.Spec.GetReimport(),
		Artifact: &pb.Artifact{Name: artifactName(uri), Type: typ, Uri: &uri, Metadata: md, Namespace: cmp.Or(imp.Namespace, l.Namespace)}})
	if err != nil {
		return nil, fmt.Errorf("native importer %q: creating its artifact: %w", imp.TaskName, err)
	}
	done, err := l.runs().UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: imp.RunID, TaskId: task.GetTaskId(), Task: &pb.PipelineTask{
		TaskId: task.GetTaskId(), RunId: imp.RunID, State: pb.PipelineTask_SUCCEEDED, EndTime: timestamppb.New(l.now())}})
	if err != nil {
		return nil, fmt.Errorf("native importer %q: marking its task succeeded: %w", imp.TaskName, err)
	}
	return done, l.Settle(ctx, imp.RunID, imp.ParentTaskID)
}

// importURI is the importer's artifact URI: a constant, or a runtime
// parameter wired from the parent DAG's inputs (the current iteration's in
// a loop) or given as a constant on the task.
func importURI(imp NativeImport, parent *pb.PipelineTask) (string, error) {
	uri := imp.Spec.GetArtifactUri().GetConstant().GetStringValue()
	if name := imp.Spec.GetArtifactUri().GetRuntimeParameter(); name != "" {
		spec := imp.Task.GetInputs().GetParameters()[name]
		uri = spec.GetRuntimeValue().GetConstant().GetStringValue()
		if key := spec.GetComponentInputParameter(); key != "" {
			for _, p := range parent.GetInputs().GetParameters() {
				pr := p.GetProducer()
				if p.GetParameterKey() == key && (imp.IterationIndex < 0 || pr != nil && pr.Iteration != nil && *pr.Iteration == int64(imp.IterationIndex)) {
					uri = p.GetValue().GetStringValue()
					break
				}
			}
		}
	}
	if uri == "" {
		return "", fmt.Errorf("native importer %q: no artifact URI", imp.TaskName)
	}
	return uri, nil
}

// artifactName is the last path element of the URI, as KFP names imported
// artifacts.
func artifactName(uri string) string {
	if u, err := url.Parse(uri); err == nil && u.Scheme != "" {
		return path.Base(u.Path)
	}
	return path.Base(strings.TrimSuffix(uri, "/"))
}
