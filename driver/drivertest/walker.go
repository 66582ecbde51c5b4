package drivertest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// Walker runs a pipeline's driver steps in dependency order, as Argo would
// call them for KFP's compiled workflow: ROOT_DAG, then per DAG its tasks
// (DAG drivers, ParallelFor loop and iteration drivers, CONTAINER drivers),
// with the launcher stand-in completing each container task that runs.
//
// Base.Line picks the KFP line: on the MLMD line requests carry the specs
// and the parent's execution ID and Launcher publishes to MLMD; on the
// native line (driver.LineNative) they carry the parent DAG's task ID and
// no specs (the driver reads the run's stored spec), Seed stores the run
// before the ROOT_DAG call and Native publishes to the KFP API server.
type Walker struct {
	Driver   driver.Driver
	Launcher *Launcher       // MLMD line
	MLMD     *mlmd.Client    // MLMD line: importers read their parent here
	Native   *NativeLauncher // native line
	// Seed, when set, is called with the ROOT_DAG request before it is
	// made (the native line's run must exist in the API server).
	Seed func(ctx context.Context, p *Pipeline, root *driver.Request) error
	// Base holds the run identity and options every request carries.
	Base driver.Request
	// Params are runtime parameter values over the root's defaults.
	Params map[string]any
	// Produce gives a task's output parameters; nil uses Default.
	Produce func(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value
	// Fail names tasks whose user code fails.
	Fail map[string]bool
	// Repeat makes every driver call twice (an Argo retry) and checks that
	// both replies agree.
	Repeat bool
	// Calls, when set, counts the driver's MLMD RPCs; each Step records
	// its own.
	Calls func() int64
}

func (w *Walker) native() bool { return w.Base.Line == driver.LineNative }

// Step is one driver call of a walk.
type Step struct {
	Type      driver.Type
	Task      string // the task's key in its DAG ("" for the root)
	Path      string // DAG path, e.g. "root/for-loop-1[2]/print-op"
	Iteration int
	Result    *driver.Result
	Launch    *Launch // the parsed patch of a container that ran
	RPCs      int64   // MLMD RPCs of the (first) call, with Walker.Calls
}

// Trace is a whole walk.
type Trace struct {
	RootID     int64  // MLMD line: the root DAG's execution
	RootTaskID string // native line: the root DAG's task
	Steps      []*Step
}

// Find returns the steps whose task key is task, in call order.
func (t *Trace) Find(task string) []*Step {
	var out []*Step
	for _, s := range t.Steps {
		if s.Task == task {
			out = append(out, s)
		}
	}
	return out
}

// status of a finished task, for its dependents.
type status int

const (
	succeeded status = iota
	skipped
	failed
)

type walk struct {
	*Walker
	p     *Pipeline
	trace *Trace
}

// Run walks the whole pipeline.
func (w *Walker) Run(ctx context.Context, p *Pipeline) (*Trace, error) {
	wk := &walk{Walker: w, p: p, trace: &Trace{}}
	root := p.Spec.GetRoot()
	req := w.Base
	req.Type, req.IterationIndex = driver.RootDAG, -1
	if !w.native() {
		req.Component = root
	}
	req.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: w.runtimeParams(root)}
	if w.Seed != nil {
		if err := w.Seed(ctx, p, &req); err != nil {
			return wk.trace, fmt.Errorf("seeding run %s: %w", req.RunID, err)
		}
	}
	res, err := wk.call(ctx, &req, "root", "")
	if err != nil {
		return wk.trace, err
	}
	wk.trace.RootID, wk.trace.RootTaskID = res.ExecutionID, res.TaskID
	_, err = wk.dag(ctx, root, dagRef{res, -1}, "root")
	return wk.trace, err
}

func (w *Walker) runtimeParams(root *pipelinespec.ComponentSpec) map[string]*structpb.Value {
	out := map[string]*structpb.Value{}
	for name, def := range root.GetInputDefinitions().GetParameters() {
		switch {
		case def.GetDefaultValue() != nil:
			out[name] = def.GetDefaultValue()
		case def.GetIsOptional():
			out[name] = structpb.NewNullValue()
		default: // a required input: what a user would type
			out[name] = Default("run", &pipelinespec.ComponentOutputsSpec_ParameterSpec{ParameterType: def.GetParameterType()}, name)
		}
	}
	for name, v := range w.Params {
		out[name], _ = structpb.NewValue(v)
	}
	return out
}

// dag runs a DAG's tasks in dependency order and reports whether any
// failed; parent is the DAG's own driver result.
func (wk *walk) dag(ctx context.Context, comp *pipelinespec.ComponentSpec, parent dagRef, path string) (status, error) {
	done := map[string]status{}
	result := succeeded
	for _, name := range order(comp.GetDag().GetTasks()) {
		task := comp.GetDag().GetTasks()[name]
		st := wk.blocked(task, done)
		if st == succeeded {
			var err error
			if st, err = wk.task(ctx, name, task, parent, path+"/"+name); err != nil {
				return failed, err
			}
		}
		done[name] = st
		if st == failed {
			result = failed
		}
	}
	return result, nil
}

// blocked: Argo runs a task when its dependencies succeeded; exit tasks
// (ALL_UPSTREAM_TASKS_COMPLETED) run whatever happened to them.
func (wk *walk) blocked(task *pipelinespec.PipelineTaskSpec, done map[string]status) status {
	if task.GetTriggerPolicy().GetStrategy() == pipelinespec.PipelineTaskSpec_TriggerPolicy_ALL_UPSTREAM_TASKS_COMPLETED {
		return succeeded
	}
	for _, dep := range task.GetDependentTasks() {
		if done[dep] != succeeded {
			return skipped
		}
	}
	return succeeded
}

// order sorts tasks topologically (by dependentTasks), ties by name.
func order(tasks map[string]*pipelinespec.PipelineTaskSpec) []string {
	var out []string
	placed := map[string]bool{}
	for len(out) < len(tasks) {
		progress := false
		for _, name := range slices.Sorted(maps.Keys(tasks)) {
			if placed[name] || !ready(tasks[name], placed, tasks) {
				continue
			}
			out, placed[name], progress = append(out, name), true, true
		}
		if !progress { // a cycle: keep going in name order
			for _, name := range slices.Sorted(maps.Keys(tasks)) {
				if !placed[name] {
					out, placed[name] = append(out, name), true
				}
			}
		}
	}
	return out
}

func ready(t *pipelinespec.PipelineTaskSpec, placed map[string]bool, tasks map[string]*pipelinespec.PipelineTaskSpec) bool {
	for _, d := range t.GetDependentTasks() {
		if _, exists := tasks[d]; exists && !placed[d] {
			return false
		}
	}
	return true
}

func (wk *walk) component(task *pipelinespec.PipelineTaskSpec) (*pipelinespec.ComponentSpec, error) {
	comp, ok := wk.p.Spec.GetComponents()[task.GetComponentRef().GetName()]
	if !ok {
		return nil, fmt.Errorf("task %q: component %q not in the spec", task.GetTaskInfo().GetName(), task.GetComponentRef().GetName())
	}
	return comp, nil
}

// At returns the step at a DAG path, e.g. "root/for-loop-1" or
// "root/for-loop-1[0]/print-op"; nil when there is none.
func (t *Trace) At(path string) *Step {
	for _, s := range t.Steps {
		if s.Path == path {
			return s
		}
	}
	return nil
}
