package flow

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/platform"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// containerTask is one CONTAINER call's work in progress.
type containerTask struct {
	req      *driver.Request
	sc       *scope
	name     string // the execution name
	input    *pipelinespec.ExecutorInput
	spec     *corev1.PodSpec
	platform string // what the kubernetes config applied, for the message
	fp       string // cache fingerprint, "" when caching does not apply
	cached   *cacheHit
}

// container runs a container task: inputs, condition, outputs, pod spec,
// cache decision, then one atomic execution write.
func (s *Service) container(ctx context.Context, client *mlmd.Client, req *driver.Request) (*driver.Result, error) {
	sc, err := s.scope(ctx, client, req)
	if err != nil {
		return nil, err
	}
	res, err := sc.resolver.Resolve(ctx, req.Task, req.Component, inputs.Options{})
	if err != nil {
		return nil, err
	}
	t := &containerTask{req: req, sc: sc, name: executionName(req), input: &pipelinespec.ExecutorInput{Inputs: res.Inputs}}
	triggered, err := evalCondition(req.Task, t.input)
	if err != nil {
		return nil, err
	}
	if triggered != nil && !*triggered {
		return t.skip(ctx)
	}
	if isPVCOp(req) {
		return s.pvcOp(ctx, t)
	}
	if err := t.prepare(ctx); err != nil {
		return nil, err
	}
	if err := s.decideCache(ctx, t); err != nil {
		return nil, err
	}
	return t.create(ctx, triggered)
}

// prepare provisions outputs and builds the pod spec patch (all but the
// launcher command, which needs the execution ID).
func (t *containerTask) prepare(ctx context.Context) error {
	req := t.req
	t.input.Outputs = executor.Outputs(req.Component, t.sc.run.PipelineRoot, req.TaskName,
		uniqueID(t.name), req.Options.PublishLogs == "true")
	spec, err := executor.PodSpec(executor.Task{
		Input: t.input, Component: req.Component, Container: req.Container,
		RunName: req.RunName, Options: req.Options,
	})
	if err != nil {
		return fmt.Errorf("task %q: %w", req.TaskName, err)
	}
	if req.KubernetesConfig != nil {
		resolve := platform.InputsFunc(func(p *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
			return t.sc.resolver.ResolveParameter(ctx, p)
		})
		sum, err := platform.Apply(spec, req.KubernetesConfig, req.KubernetesConfigJSON, resolve, platform.Options{
			DefaultRunAsUser: req.Options.DefaultRunAsUser, DefaultRunAsGroup: req.Options.DefaultRunAsGroup,
			DefaultRunAsNonRoot: req.Options.DefaultRunAsNonRoot, DefaultHostUsers: req.Options.DefaultHostUsers,
		})
		if err != nil {
			return fmt.Errorf("task %q: %w", req.TaskName, err)
		}
		t.platform = sum.String()
	}
	t.spec = spec
	return nil
}

// skip records a task whose condition is false as CANCELED.
func (t *containerTask) skip(ctx context.Context) (*driver.Result, error) {
	exec, created, err := t.write(ctx, pb.Execution_CANCELED, nil)
	if err == nil {
		err = t.sc.settle(ctx, created, t.req.DAGExecutionID)
	}
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("%s: condition false: skipped (execution %d)", t.req.TaskName, exec.ID())
	return &driver.Result{ExecutionID: exec.ID(), Condition: ptr(false), Message: again(msg, created),
		LogURI: exec.String(mlmd.PropDriverLogsURI)}, nil
}

// create writes the execution (CACHED with the reused outputs on a hit,
// RUNNING otherwise) and replies from what is stored.
func (t *containerTask) create(ctx context.Context, triggered *bool) (*driver.Result, error) {
	state := pb.Execution_RUNNING
	if t.cached != nil {
		state = pb.Execution_CACHED
	}
	exec, created, err := t.write(ctx, state, t.cached)
	if err == nil && t.cached != nil {
		err = t.sc.settle(ctx, created, t.req.DAGExecutionID)
	}
	if err != nil {
		return nil, err
	}
	r := &driver.Result{ExecutionID: exec.ID(), Condition: triggered, LogURI: exec.String(mlmd.PropDriverLogsURI)}
	switch {
	case exec.State() == pb.Execution_CANCELED: // an earlier call found the condition false
		r.Condition = ptr(false)
		return withMessage(r, again(fmt.Sprintf("%s: condition false: skipped (execution %d)", t.req.TaskName, exec.ID()), created)), nil
	case exec.String(mlmd.PropCachedExecutionID) != "":
		r.CachedDecision = ptr(true)
		msg := fmt.Sprintf("%s: cache hit (execution %s), recorded as execution %d", t.req.TaskName, exec.String(mlmd.PropCachedExecutionID), exec.ID())
		return withMessage(r, again(msg, created)), nil
	}
	if err := t.finishPatch(exec.ID(), r); err != nil {
		return nil, err
	}
	return withMessage(r, again(t.runMessage(exec.ID()), created)), nil
}

func (t *containerTask) finishPatch(execID int64, r *driver.Result) error {
	req := t.req
	err := executor.SetLauncher(t.spec, executor.Launcher{
		PipelineName: req.PipelineName, RunID: req.RunID, ExecutionID: execID,
		Input: t.input, Component: req.Component, Options: req.Options,
	})
	if err != nil {
		return err
	}
	r.CachedDecision = ptr(false)
	r.PodSpecPatch, err = executor.Patch(t.spec)
	return err
}

func (t *containerTask) runMessage(execID int64) string {
	in := t.input.GetInputs()
	parts := []string{fmt.Sprintf("%s: execution %d, %d inputs resolved", t.req.TaskName, execID,
		len(in.GetParameterValues())+len(in.GetArtifacts()))}
	if t.fp != "" {
		parts = append(parts, "cache miss")
	}
	if t.platform != "" {
		parts = append(parts, t.platform)
	}
	return strings.Join(parts, "; ")
}

// write creates the execution with its inputs, and on a cache hit the
// reused outputs, in one PutExecution.
func (t *containerTask) write(ctx context.Context, state pb.Execution_State, hit *cacheHit) (*mlmd.Execution, bool, error) {
	req := t.req
	props := taskProps(req, t.input.GetInputs().GetParameterValues())
	for _, k := range []string{mlmd.PropPodName, mlmd.PropPodUID, mlmd.PropNamespace, mlmd.PropImage} {
		props[k] = mlmd.StringValue("")
	}
	if t.fp != "" {
		props[mlmd.PropCacheFingerprint] = mlmd.StringValue(t.fp)
	}
	withLogURI(props, t.sc.logRoot, t.name)
	n := mlmd.NewExecution{TypeName: mlmd.ContainerExecutionType, Name: t.name, State: state, Props: props}
	if hit != nil { // a cache hit, or a PVC op's own outputs (execID 0)
		if hit.execID != 0 {
			props[mlmd.PropCachedExecutionID] = mlmd.StringValue(fmt.Sprint(hit.execID))
		}
		props[mlmd.PropOutputs] = mlmd.StructValue(hit.outputs)
		n.Outputs = hit.artifacts
	}
	refs, err := mlmd.InputRefs(t.input.GetInputs())
	if err != nil {
		return nil, false, err
	}
	n.Inputs = refs
	return t.sc.client.CreateExecution(ctx, t.sc.run, n)
}
