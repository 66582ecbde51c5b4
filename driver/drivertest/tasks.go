package drivertest

import (
	"context"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// task runs one task of a DAG: a DAG task (maybe a ParallelFor), an
// importer or a container.
func (wk *walk) task(ctx context.Context, name string, task *pipelinespec.PipelineTaskSpec, parent dagRef, path string) (status, error) {
	comp, err := wk.component(task)
	if err != nil {
		return failed, err
	}
	if comp.GetDag() != nil {
		return wk.dagTask(ctx, name, task, comp, parent, path)
	}
	exec := wk.p.Executors[comp.GetExecutorLabel()]
	if imp := exec.GetImporter(); imp != nil {
		return succeeded, wk.importer(ctx, name, task, comp, imp, parent)
	}
	if exec.GetContainer() == nil {
		return failed, fmt.Errorf("task %q: executor %q is neither a container nor an importer", name, comp.GetExecutorLabel())
	}
	return wk.container(ctx, name, task, comp, exec.GetContainer(), parent, path)
}

// request is a DAG or CONTAINER call under parent (the enclosing DAG's
// driver result) as the plugin decodes it for the walk's line.
func (wk *walk) request(t driver.Type, name string, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec, parent dagRef, iteration int) *driver.Request {
	req := wk.Base
	req.Type, req.TaskName, req.IterationIndex = t, name, iteration
	if wk.native() {
		req.ParentTaskID, req.IterationIndex = parent.res.TaskID, parent.iteration
		return &req
	}
	req.DAGExecutionID = parent.res.ExecutionID
	req.Task = proto.Clone(task).(*pipelinespec.PipelineTaskSpec)
	req.Component = comp
	return &req
}

func (wk *walk) dagTask(ctx context.Context, name string, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec, parent dagRef, path string) (status, error) {
	res, err := wk.call(ctx, wk.request(driver.DAG, name, task, comp, parent, -1), path, name)
	if err != nil {
		return failed, err
	}
	if res.Condition != nil && !*res.Condition {
		return skipped, nil
	}
	if task.GetParameterIterator() == nil && task.GetArtifactIterator() == nil {
		return wk.dag(ctx, comp, dagRef{res, parent.iteration}, path)
	}
	result := succeeded
	for i := range *res.IterationCount {
		body := dagRef{res, i} // native: the loop's tasks run under the loop itself
		if !wk.native() {      // MLMD: an iteration DAG call, its tasks under it
			it, err := wk.call(ctx, wk.request(driver.DAG, name, task, comp, dagRef{res, -1}, i), fmt.Sprintf("%s[%d]", path, i), name)
			if err != nil {
				return failed, err
			}
			body = dagRef{it, -1}
		}
		st, err := wk.dag(ctx, comp, body, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return failed, err
		}
		if st == failed {
			result = failed
		}
	}
	return result, nil
}

func (wk *walk) container(ctx context.Context, name string, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec,
	ctr *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec, parent dagRef, path string) (status, error) {
	req := wk.request(driver.Container, name, task, comp, parent, -1)
	if !wk.native() {
		req.Container = ctr
	}
	cfg, raw, err := wk.p.KubernetesConfig(comp.GetExecutorLabel())
	if err != nil {
		return failed, err
	}
	req.KubernetesConfig, req.KubernetesConfigJSON = cfg, raw
	res, err := wk.call(ctx, req, path, name)
	if err != nil {
		return failed, err
	}
	step := wk.trace.Steps[len(wk.trace.Steps)-1]
	switch {
	case res.Condition != nil && !*res.Condition:
		return skipped, nil
	case res.CachedDecision != nil && *res.CachedDecision:
		return succeeded, nil
	case res.PodSpecPatch == "": // the driver did the task itself (PVC ops)
		return succeeded, nil
	}
	launch, err := ParseLaunch(res.PodSpecPatch)
	if err != nil {
		return failed, fmt.Errorf("task %q: %w", name, err)
	}
	step.Launch = launch
	if launch.Namespace == "" { // the kubelet's $(NAMESPACE): the run's
		launch.Namespace = wk.Base.Namespace
	}
	out := Outcome{Parameters: wk.outputs(name, comp), Failed: wk.Fail[name]}
	if wk.native() {
		if launch.Line != driver.LineNative {
			return failed, fmt.Errorf("task %q: the native driver rendered an MLMD launcher command", name)
		}
		launch.Component = comp // KFP's launcher reads it from the run's spec
		err = wk.Native.Complete(ctx, launch, out)
	} else {
		err = wk.Launcher.Complete(ctx, launch, out)
	}
	if err != nil {
		return failed, fmt.Errorf("launcher stand-in for %q: %w", name, err)
	}
	if out.Failed {
		return failed, nil
	}
	return succeeded, nil
}

func (wk *walk) importer(ctx context.Context, name string, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec,
	spec *pipelinespec.PipelineDeploymentConfig_ImporterSpec, parent dagRef) error {
	key := "artifact"
	for k := range comp.GetOutputDefinitions().GetArtifacts() {
		key = k
	}
	if wk.native() {
		_, err := wk.Native.Import(ctx, NativeImport{RunID: wk.Base.RunID, Namespace: wk.Base.Namespace, ParentTaskID: parent.res.TaskID, TaskName: name,
			Task: task, Spec: spec, OutputKey: key, IterationIndex: parent.iteration})
		return err
	}
	run, err := wk.MLMD.RunOf(ctx, wk.Base.PipelineName, wk.Base.RunID, parent.res.ExecutionID)
	if err != nil {
		return err
	}
	dag, err := wk.MLMD.ExecutionByID(ctx, parent.res.ExecutionID)
	if err != nil {
		return err
	}
	return wk.Launcher.Import(ctx, run, dag, task, spec, key)
}

// call makes one driver call (twice with Repeat) and records it.
func (wk *walk) call(ctx context.Context, req *driver.Request, path, task string) (*driver.Result, error) {
	var before int64
	if wk.Calls != nil {
		before = wk.Calls()
	}
	res, err := wk.Driver.Run(ctx, req)
	rpcs := int64(0)
	if wk.Calls != nil {
		rpcs = wk.Calls() - before
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Type, path, err)
	}
	if wk.Repeat {
		again, err := wk.Driver.Run(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("%s %s (repeated): %w", req.Type, path, err)
		}
		if d := diff(res, again); d != "" {
			return nil, fmt.Errorf("%s %s: a repeated call replied differently: %s", req.Type, path, d)
		}
	}
	wk.trace.Steps = append(wk.trace.Steps, &Step{Type: req.Type, Task: task, Path: path, Iteration: req.IterationIndex, Result: res, RPCs: rpcs})
	return res, nil
}

func diff(a, b *driver.Result) string {
	oa, ob := a.Outputs(driver.Container), b.Outputs(driver.Container)
	oa[driver.OutputIterationCount], ob[driver.OutputIterationCount] = fmt.Sprint(deref(a.IterationCount)), fmt.Sprint(deref(b.IterationCount))
	for k, v := range oa {
		if ob[k] != v {
			return fmt.Sprintf("%s: %.60q then %.60q", k, v, ob[k])
		}
	}
	if len(oa) != len(ob) {
		return fmt.Sprintf("outputs %v then %v", oa, ob)
	}
	return ""
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// dagRef is the DAG a task runs under: the DAG step's result and, on the
// native line inside a ParallelFor, the iteration (there the loop's tasks
// have the loop itself as parent, with their iteration index); -1 outside.
type dagRef struct {
	res       *driver.Result
	iteration int
}
