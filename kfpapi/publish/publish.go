// Package publish records what a task produced through the KFP API
// server's v2beta1 task and artifact APIs, as KFP master's launcher does
// after the user code ran (read from backend/src/v2/component at commit
// 6585b5143d67 for behaviour): output parameters on the task, output
// artifacts created and linked to it by the server, the task's final
// state, then the states of its parent DAGs; and, for importer pods, the
// IMPORTER task with its artifact.
//
// It is test support shared by the end-to-end suite's launcher stand-in
// (e2e/standin, in executor pods) and in-process stand-ins. Not done, as
// the real launcher does: propagating outputs up into parent DAG tasks
// (the driver resolves DAG outputs through their producers), metrics
// artifacts without numeric metadata, executor log uploads.
package publish

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/apirecords"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// Task is one finished container task, as the launcher knows it from its
// flags (--run_id, --task_id, --task_name, --iteration_index, --namespace,
// --executor_input) and from what the user code produced.
type Task struct {
	RunID, TaskID, TaskName, Namespace string
	// Iteration is --iteration_index; nil outside a loop iteration.
	Iteration *int64
	// Input is the executor input; its output artifacts (as the user code
	// left them: URIs, metadata) are the ones created.
	Input *pipelinespec.ExecutorInput
	// Parameters are the produced output parameters; only those the
	// executor input declares are kept.
	Parameters map[string]*structpb.Value
	Failed     bool
	Message    string // why it failed
	Now        func() time.Time
}

func now(f func() time.Time) *timestamppb.Timestamp {
	if f == nil {
		f = time.Now
	}
	return timestamppb.New(f())
}

// Publish records t: outputs unless it failed, then its state and end
// time, then its parent DAGs' states (Settle).
func Publish(ctx context.Context, c *kfpapi.Client, t Task) error {
	if t.RunID == "" || t.TaskID == "" {
		return fmt.Errorf("publish: run and task IDs are required")
	}
	update := &pb.PipelineTask{TaskId: t.TaskID, RunId: t.RunID, State: pb.PipelineTask_SUCCEEDED, EndTime: now(t.Now)}
	if t.Failed {
		update.State = pb.PipelineTask_FAILED
		update.StatusMetadata = &pb.PipelineTask_StatusMetadata{Message: t.Message}
	} else {
		if _, err := c.CreateArtifacts(ctx, t.RunID, outputArtifacts(t)); err != nil {
			return err
		}
		update.Outputs = &pb.PipelineTask_InputOutputs{Parameters: outputParams(t)}
	}
	got, err := c.UpdateTask(ctx, update)
	if err != nil {
		return err
	}
	return Settle(ctx, c, t.RunID, got.GetParentTaskId())
}

// outputParams are the declared outputs the task produced, typed OUTPUT
// (ITERATOR_OUTPUT in a loop iteration) with the task as producer.
func outputParams(t Task) []*pb.PipelineTask_InputOutputs_IOParameter {
	var out []*pb.PipelineTask_InputOutputs_IOParameter
	for _, name := range slices.Sorted(maps.Keys(t.Input.GetOutputs().GetParameters())) {
		v, ok := t.Parameters[name]
		if !ok {
			continue
		}
		p := &pb.PipelineTask_InputOutputs_IOParameter{ParameterKey: name, Value: v, Type: pb.IOType_OUTPUT,
			Producer: &pb.IOProducer{TaskName: t.TaskName, Iteration: t.Iteration}}
		if t.Iteration != nil {
			p.Type = pb.IOType_ITERATOR_OUTPUT
		}
		out = append(out, p)
	}
	return out
}

// outputArtifacts are the create requests for the task's output artifacts:
// one per runtime artifact, keyed by output name; a Metrics artifact
// becomes one artifact per numeric metadata value, as KFP records them.
func outputArtifacts(t Task) []*pb.CreateArtifactRequest {
	var out []*pb.CreateArtifactRequest
	add := func(key string, a *pb.Artifact) {
		a.Namespace, a.CreatedAt = t.Namespace, now(t.Now)
		out = append(out, &pb.CreateArtifactRequest{Artifact: a, RunId: t.RunID, TaskId: t.TaskID, ProducerKey: key, IterationIndex: t.Iteration})
	}
	arts := t.Input.GetOutputs().GetArtifacts()
	for _, key := range slices.Sorted(maps.Keys(arts)) {
		for _, ra := range arts[key].GetArtifacts() {
			typ := kfpapi.ArtifactType(ra.GetType().GetSchemaTitle())
			fields := ra.GetMetadata().GetFields()
			if typ == pb.Artifact_Metric {
				for _, k := range slices.Sorted(maps.Keys(fields)) {
					if n, ok := fields[k].GetKind().(*structpb.Value_NumberValue); ok {
						add(key, &pb.Artifact{Name: k, Type: typ, NumberValue: &n.NumberValue, Metadata: map[string]*structpb.Value{k: fields[k]}})
					}
				}
				continue
			}
			if (typ == pb.Artifact_ClassificationMetric || typ == pb.Artifact_SlicedClassificationMetric) && len(fields) == 0 {
				continue // KFP requires their values; none were written
			}
			name := ra.GetName()
			if name == "" {
				name = key
			}
			uri := ra.GetUri()
			add(key, &pb.Artifact{Name: name, Type: typ, Uri: &uri, Metadata: fields})
		}
	}
	return out
}

// Settle updates DAG task states bottom-up from dag by the driver's own
// rule (apirecords.SettleDAGs), reading the run's spec for the expected
// children.
func Settle(ctx context.Context, c *kfpapi.Client, runID, dag string) error {
	var spec *pipelinespec.PipelineSpec
	component := func(scope string) (*pipelinespec.ComponentSpec, error) {
		if spec == nil {
			var err error
			if _, spec, err = apirecords.ReadSpec(ctx, c, runID); err != nil {
				return nil, err
			}
		}
		return apirecords.ComponentAt(spec, scope)
	}
	return apirecords.SettleDAGs(ctx, c, runID, dag, component, nil)
}

// Importer is one importer pod, from its flags (--run_id,
// --parent_task_id, --task_name, --iteration_index, --namespace,
// --importer_spec).
type Importer struct {
	RunID, ParentTaskID, TaskName, Namespace string
	Iteration                                *int64
	Spec                                     *pipelinespec.PipelineDeploymentConfig_ImporterSpec
	Now                                      func() time.Time
}

// Import creates the IMPORTER task under the parent DAG, its artifact
// (shared with an equal one of the namespace unless the spec reimports),
// marks it succeeded and settles its parents. It returns the task.
func Import(ctx context.Context, c *kfpapi.Client, in Importer) (*pb.PipelineTask, error) {
	parent, err := c.GetTask(ctx, in.RunID, in.ParentTaskID)
	if err != nil {
		return nil, err
	}
	_, spec, err := apirecords.ReadSpec(ctx, c, in.RunID)
	if err != nil {
		return nil, err
	}
	scope := parent.GetScopePath() + "." + in.TaskName
	dag, err := apirecords.ComponentAt(spec, parent.GetScopePath())
	if err != nil {
		return nil, err
	}
	taskSpec, ok := dag.GetDag().GetTasks()[in.TaskName]
	if !ok {
		return nil, fmt.Errorf("task_name: the DAG at %q has no task %q", parent.GetScopePath(), in.TaskName)
	}
	uri, err := importURI(in, taskSpec, parent)
	if err != nil {
		return nil, err
	}
	key := "artifact"
	if comp := spec.GetComponents()[taskSpec.GetComponentRef().GetName()]; comp != nil {
		for k := range comp.GetOutputDefinitions().GetArtifacts() {
			key = k
		}
	}
	task, err := c.CreateTask(ctx, &pb.PipelineTask{Name: in.TaskName, DisplayName: taskSpec.GetTaskInfo().GetName(), RunId: in.RunID,
		ParentTaskId: &in.ParentTaskID, Type: pb.PipelineTask_IMPORTER, State: pb.PipelineTask_RUNNING, ScopePath: scope,
		CreateTime:     timestamppb.New(now(in.Now).AsTime().Truncate(time.Second)),
		TypeAttributes: &pb.PipelineTask_TypeAttributes{IterationIndex: in.Iteration}})
	if err != nil {
		return nil, err
	}
	typ := kfpapi.ArtifactType(in.Spec.GetTypeSchema().GetSchemaTitle())
	name := path.Base(strings.TrimRight(uri, "/"))
	if u, err := url.Parse(uri); err == nil && u.Path != "" {
		name = path.Base(u.Path)
	}
	_, err = c.CreateArtifact(ctx, &pb.CreateArtifactRequest{RunId: in.RunID, TaskId: task.GetTaskId(), ProducerKey: key,
		IterationIndex: in.Iteration, ReuseIfExists: !in.Spec.GetReimport(),
		Artifact: &pb.Artifact{Name: name, Type: typ, Uri: &uri, Metadata: in.Spec.GetMetadata().GetFields(),
			Namespace: in.Namespace, CreatedAt: now(in.Now)}})
	if err != nil {
		return nil, err
	}
	done, err := c.UpdateTask(ctx, &pb.PipelineTask{TaskId: task.GetTaskId(), RunId: in.RunID, State: pb.PipelineTask_SUCCEEDED, EndTime: now(in.Now)})
	if err != nil {
		return nil, err
	}
	return done, Settle(ctx, c, in.RunID, in.ParentTaskID)
}

// importURI is the constant URI, or the runtime parameter's value among
// the parent DAG's inputs (this iteration's, in a loop).
func importURI(in Importer, task *pipelinespec.PipelineTaskSpec, parent *pb.PipelineTask) (string, error) {
	u := in.Spec.GetArtifactUri()
	if c := u.GetConstant(); c != nil {
		if c.GetStringValue() == "" {
			return "", fmt.Errorf("importer: empty artifact URI constant")
		}
		return c.GetStringValue(), nil
	}
	name := u.GetRuntimeParameter()
	if name == "" {
		return "", fmt.Errorf("importer: no artifact URI")
	}
	input := task.GetInputs().GetParameters()[name].GetComponentInputParameter()
	for _, p := range parent.GetInputs().GetParameters() {
		if p.GetParameterKey() != input {
			continue
		}
		if in.Iteration != nil && (p.GetProducer().Iteration == nil || p.GetProducer().GetIteration() != *in.Iteration) {
			continue
		}
		if v := p.GetValue().GetStringValue(); v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("importer: parameter %s (input %s of the parent DAG) has no value", name, input)
}
