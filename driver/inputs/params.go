package inputs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// WorkspacePath is where the pipeline workspace is mounted in task pods.
const WorkspacePath = "/kfp-workspace"

func (r *Resolver) parameters(ctx context.Context, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec, res *Resolved) error {
	defs := comp.GetInputDefinitions().GetParameters()
	for _, name := range slices.Sorted(maps.Keys(task.GetInputs().GetParameters())) {
		spec := task.GetInputs().GetParameters()[name]
		v, err := r.parameter(ctx, task, spec)
		var failed *upstreamFailedError
		if errors.As(err, &failed) && ignoresUpstreamFailure(task) {
			if v, err = defaultFor(defs[name], err); v == nil && err == nil {
				continue // optional without a default: left unset
			}
		}
		if err != nil {
			return r.inputErr(name, err)
		}
		if _, isNull := v.GetKind().(*structpb.Value_NullValue); isNull {
			if defs[name].GetIsOptional() {
				continue // the launcher applies the default
			}
			return r.inputErr(name, errors.New("resolved to null but the input is not optional"))
		}
		res.Inputs.ParameterValues[name] = v
	}
	return nil
}

// defaultFor is the value of an input whose producer failed, for a task
// that ignores upstream failures: its declared default, nothing when it is
// optional without one, else the producer's error.
func defaultFor(def *pipelinespec.ComponentInputsSpec_ParameterSpec, cause error) (*structpb.Value, error) {
	switch {
	case def.GetDefaultValue() != nil:
		return def.GetDefaultValue(), nil
	case def.GetIsOptional():
		return nil, nil
	}
	return nil, fmt.Errorf("%w; the task ignores upstream failures but the input has no default", cause)
}

// parameter resolves one parameter spec. task may be nil outside task inputs.
func (r *Resolver) parameter(ctx context.Context, task *pipelinespec.PipelineTaskSpec, spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
	switch k := spec.GetKind().(type) {
	case *pipelinespec.TaskInputsSpec_InputParameterSpec_ComponentInputParameter:
		v, ok := r.parent.Inputs()[k.ComponentInputParameter]
		if !ok {
			return nil, fmt.Errorf("parent DAG input %q not found", k.ComponentInputParameter)
		}
		return v, nil
	case *pipelinespec.TaskInputsSpec_InputParameterSpec_RuntimeValue:
		c := k.RuntimeValue.GetConstant()
		if c == nil {
			return nil, errors.New("only constant runtime values are supported")
		}
		return r.constant(c), nil
	case *pipelinespec.TaskInputsSpec_InputParameterSpec_TaskOutputParameter:
		return r.upstreamParameter(ctx, k.TaskOutputParameter)
	case *pipelinespec.TaskInputsSpec_InputParameterSpec_TaskFinalStatus_:
		return r.finalStatus(ctx, task)
	case nil:
		return nil, errors.New("the input spec sets no kind")
	default:
		return nil, fmt.Errorf("unsupported input kind %T", k)
	}
}

// constant substitutes the workspace path anywhere in a string and a job
// placeholder when the string is exactly one.
func (r *Resolver) constant(c *structpb.Value) *structpb.Value {
	s, ok := c.GetKind().(*structpb.Value_StringValue)
	if !ok {
		return c
	}
	text := strings.ReplaceAll(s.StringValue, "{{$.workspace_path}}", WorkspacePath)
	if v, ok := r.placeholder(text); ok {
		text = v
	}
	return structpb.NewStringValue(text)
}

func (r *Resolver) placeholder(s string) (string, bool) {
	switch s {
	case "{{$.pipeline_job_name}}":
		return r.job.RunDisplayName, true
	case "{{$.pipeline_job_resource_name}}":
		return r.job.RunName, true
	case "{{$.pipeline_job_uuid}}":
		return r.job.RunID, true
	case "{{$.pipeline_task_name}}":
		return r.job.TaskName, true
	case "{{$.pipeline_task_uuid}}":
		return r.job.ParentRef, true
	case "{{$.pipeline_job_create_time_utc}}":
		return r.job.CreateTime, true
	case "{{$.pipeline_job_schedule_time_utc}}":
		if r.job.ScheduleTime != "" {
			return r.job.ScheduleTime, true
		}
		return r.job.CreateTime, true
	}
	return "", false
}

// finalStatus is PipelineTaskFinalStatus of the task this exit task guards:
// its first dependent task (KFP ignores taskFinalStatus.producerTask too).
func (r *Resolver) finalStatus(ctx context.Context, task *pipelinespec.PipelineTaskSpec) (*structpb.Value, error) {
	deps := task.GetDependentTasks()
	if len(deps) == 0 {
		return nil, errors.New("task final status needs a dependent task, the task has none")
	}
	producer, err := r.mustChild(ctx, r.parent, deps[0])
	if err != nil {
		return nil, err
	}
	return structpb.NewValue(map[string]any{
		"state":                   producer.StateName(),
		"pipelineTaskName":        producer.TaskName(),
		"pipelineJobResourceName": r.job.RunName,
		"error":                   map[string]any{},
	})
}
