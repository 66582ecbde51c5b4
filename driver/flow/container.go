package flow

import (
	"context"
	"fmt"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/platform"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// containerTask is one CONTAINER call's work in progress.
type containerTask struct {
	req      *driver.Request
	sc       *scope
	name     string // the record's deterministic name
	input    *pipelinespec.ExecutorInput
	spec     *corev1.PodSpec
	platform string // what the kubernetes config applied, for the message
	fp       string // cache fingerprint, "" when caching does not apply
	cached   *record.Outputs
}

// container runs a container task: inputs, condition, outputs, pod spec,
// cache decision, then one record write.
func (s *Service) container(ctx context.Context, b record.Backend, req *driver.Request) (*driver.Result, error) {
	sc, req, err := s.scope(ctx, b, req)
	if err != nil {
		return nil, err
	}
	res, err := sc.resolver.Resolve(ctx, req.Task, req.Component, inputs.Options{})
	if err != nil {
		return nil, err
	}
	t := &containerTask{req: req, sc: sc, name: sc.call.StepName(), input: &pipelinespec.ExecutorInput{Inputs: res.Inputs}}
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
// launcher command, which needs the record).
func (t *containerTask) prepare(ctx context.Context) error {
	req := t.req
	t.input.Outputs = executor.Outputs(req.Component, t.sc.call.PipelineRoot(), req.TaskName,
		record.UniqueID(t.name), req.Options.PublishLogs == "true")
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

// skip records a task whose condition is false as skipped.
func (t *containerTask) skip(ctx context.Context) (*driver.Result, error) {
	w, err := t.write(ctx, record.Skipped, nil)
	if err == nil {
		err = t.sc.settle(ctx, w, t.sc.call.Parent().Ref())
	}
	if err != nil {
		return nil, err
	}
	r := result(w)
	r.Condition = ptr(false)
	msg := fmt.Sprintf("%s: condition false: skipped (%s)", t.req.TaskName, w.Task.Label())
	return withMessage(r, again(msg, w.Created)), nil
}

// create writes the record (cached with the reused outputs on a hit,
// running otherwise) and replies from what is stored.
func (t *containerTask) create(ctx context.Context, triggered *bool) (*driver.Result, error) {
	status := record.Running
	if t.cached != nil {
		status = record.Cached
	}
	w, err := t.write(ctx, status, t.cached)
	if err == nil && t.cached != nil {
		err = t.sc.settle(ctx, w, t.sc.call.Parent().Ref())
	}
	if err != nil {
		return nil, err
	}
	r := result(w)
	r.Condition = triggered
	label := w.Task.Label()
	switch {
	case w.Task.Status() == record.Skipped: // an earlier call found the condition false
		r.Condition = ptr(false)
		return withMessage(r, again(fmt.Sprintf("%s: condition false: skipped (%s)", t.req.TaskName, label), w.Created)), nil
	case w.CachedFrom != "":
		r.CachedDecision = ptr(true)
		msg := fmt.Sprintf("%s: cache hit (%s), recorded as %s", t.req.TaskName, w.CachedFrom, label)
		return withMessage(r, again(msg, w.Created)), nil
	}
	if err := t.finishPatch(w, r); err != nil {
		return nil, err
	}
	return withMessage(r, again(t.runMessage(label), w.Created)), nil
}

func (t *containerTask) finishPatch(w *record.Written, r *driver.Result) error {
	cmd, err := t.sc.call.LauncherCommand(w, t.input, t.fp)
	if err == nil {
		err = executor.SetCommand(t.spec, cmd)
	}
	if err != nil {
		return err
	}
	r.CachedDecision = ptr(false)
	r.PodSpecPatch, err = executor.Patch(t.spec)
	return err
}

func (t *containerTask) runMessage(label string) string {
	in := t.input.GetInputs()
	parts := []string{fmt.Sprintf("%s: %s, %d inputs resolved", t.req.TaskName, label,
		len(in.GetParameterValues())+len(in.GetArtifacts()))}
	if t.fp != "" {
		parts = append(parts, "cache miss")
	}
	if t.platform != "" {
		parts = append(parts, t.platform)
	}
	return strings.Join(parts, "; ")
}

// write records the step with its inputs and, on a cache hit or a PVC op,
// its outputs.
func (t *containerTask) write(ctx context.Context, status record.Status, outputs *record.Outputs) (*record.Written, error) {
	return t.sc.call.Write(ctx, record.Step{Kind: record.ContainerStep, Status: status,
		Inputs: t.input.GetInputs(), Fingerprint: t.fp, Outputs: outputs})
}
