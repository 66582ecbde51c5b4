package inputs

import (
	"context"
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// Job holds what KFP's job and task placeholders resolve to.
type Job struct {
	RunID          string
	RunName        string // the Argo workflow name
	RunDisplayName string
	TaskName       string
	ParentRef      string // the parent DAG's record ({{$.pipeline_task_uuid}})
	CreateTime     string // RFC 3339
	ScheduleTime   string // RFC 3339; "" means the create time
}

// Resolver resolves the inputs of one task in one driver call. It memoises
// the store's listings for the duration of the call; make a new one per call.
type Resolver struct {
	store    record.Store
	parent   record.Task
	job      Job
	children map[string]*kids
	linked   map[string][]record.Artifact
}

// kids is what one call has read of a DAG's children: all of them, or the
// ones with the task names asked for so far.
type kids struct {
	all    []record.Task // nil until listed in full
	byName map[string]record.Task
	asked  map[string]bool
}

// New returns a resolver for a task whose parent DAG is parent, reading
// the run's records from store.
func New(store record.Store, parent record.Task, job Job) *Resolver {
	return &Resolver{store: store, parent: parent, job: job,
		children: map[string]*kids{}, linked: map[string][]record.Artifact{}}
}

// Options say which KFP rule variant applies.
type Options struct {
	// NestedDAG: a DAG task (not an iteration) fills unwired optional
	// inputs with their default or null, as KFP does for nested pipelines.
	NestedDAG bool
	// Skip names inputs left out of type validation (ParallelFor items).
	Skip []string
}

// Resolved is a task's resolved inputs.
type Resolved struct {
	Inputs *pipelinespec.ExecutorInput_Inputs
	// nulls are inputs whose null value the driver inserted itself.
	nulls map[string]bool
}

// Resolve resolves every input of task against component's definitions.
func (r *Resolver) Resolve(ctx context.Context, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec, opts Options) (*Resolved, error) {
	if err := r.prefetch(ctx, r.parent, producerNames(task)...); err != nil {
		return nil, err
	}
	res := &Resolved{
		Inputs: &pipelinespec.ExecutorInput_Inputs{
			ParameterValues: map[string]*structpb.Value{},
			Artifacts:       map[string]*pipelinespec.ArtifactList{},
		},
		nulls: map[string]bool{},
	}
	if err := r.parameters(ctx, task, comp, res); err != nil {
		return nil, err
	}
	if err := r.artifacts(ctx, task, comp, res); err != nil {
		return nil, err
	}
	if err := r.selectors(task, res); err != nil {
		return nil, err
	}
	if opts.NestedDAG {
		fillOptional(comp, res)
	}
	if err := validate(comp, res, opts.Skip); err != nil {
		return nil, r.inputErr(err.name, err.err)
	}
	return res, nil
}

// ResolveParameter resolves one parameter spec outside a task's inputs (the
// kfp-kubernetes config refers to values this way).
func (r *Resolver) ResolveParameter(ctx context.Context, spec *pipelinespec.TaskInputsSpec_InputParameterSpec) (*structpb.Value, error) {
	return r.parameter(ctx, nil, spec)
}

func (r *Resolver) inputErr(name string, err error) error {
	return fmt.Errorf("resolving input %q of task %q: %w", name, r.job.TaskName, err)
}

func (r *Resolver) kidsOf(dag record.Task) *kids {
	k, ok := r.children[dag.Ref()]
	if !ok {
		k = &kids{byName: map[string]record.Task{}, asked: map[string]bool{}}
		r.children[dag.Ref()] = k
	}
	return k
}

// prefetch reads, in one round trip, the children of dag named tasks that
// this call has not asked for yet.
func (r *Resolver) prefetch(ctx context.Context, dag record.Task, tasks ...string) error {
	k := r.kidsOf(dag)
	var missing []string
	for _, t := range tasks {
		if !k.asked[t] && k.all == nil {
			missing = append(missing, t)
			k.asked[t] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	found, err := r.store.Children(ctx, []string{dag.Ref()}, missing...)
	if err != nil {
		return err
	}
	for _, c := range found {
		k.byName[c.TaskName()] = c
	}
	return nil
}

// prefetchMany is prefetch for several DAGs in one listing.
func (r *Resolver) prefetchMany(ctx context.Context, dags []record.Task, names []string) error {
	var ids []string
	for _, d := range dags {
		k := r.kidsOf(d)
		if k.all != nil {
			continue
		}
		ask := false
		for _, n := range names {
			if !k.asked[n] {
				ask, k.asked[n] = true, true
			}
		}
		if ask {
			ids = append(ids, d.Ref())
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := r.store.Children(ctx, ids, names...)
	if err != nil {
		return err
	}
	for _, c := range found {
		r.children[c.ParentRef()].byName[c.TaskName()] = c
	}
	return nil
}

// listAll lists all children of several DAGs (loops) in one listing.
func (r *Resolver) listAll(ctx context.Context, dags []record.Task) error {
	var ids []string
	for _, d := range dags {
		if r.kidsOf(d).all == nil {
			ids = append(ids, d.Ref())
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := r.store.Children(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		r.children[id].all = []record.Task{}
	}
	for _, c := range found {
		k := r.children[c.ParentRef()]
		k.all = append(k.all, c)
	}
	return nil
}

// childrenOf lists all of a DAG execution's children (a loop's
// iterations), once per call.
func (r *Resolver) childrenOf(ctx context.Context, dag record.Task) ([]record.Task, error) {
	k := r.kidsOf(dag)
	if k.all != nil {
		return k.all, nil
	}
	all, err := r.store.Children(ctx, []string{dag.Ref()})
	if err != nil {
		return nil, err
	}
	k.all = all
	return all, nil
}

// child finds the task named task among a DAG execution's children; nil
// when it has none (yet).
func (r *Resolver) child(ctx context.Context, dag record.Task, task string) (record.Task, error) {
	if err := r.prefetch(ctx, dag, task); err != nil {
		return nil, err
	}
	k := r.kidsOf(dag)
	if k.all != nil {
		for _, c := range k.all {
			if c.TaskName() == task {
				return c, nil
			}
		}
		return nil, nil
	}
	return k.byName[task], nil
}

// producerNames are the sibling tasks a task's inputs read from.
func producerNames(task *pipelinespec.PipelineTaskSpec) []string {
	var names []string
	for _, p := range task.GetInputs().GetParameters() {
		if n := p.GetTaskOutputParameter().GetProducerTask(); n != "" {
			names = append(names, n)
		}
		if p.GetTaskFinalStatus() != nil && len(task.GetDependentTasks()) > 0 {
			names = append(names, task.GetDependentTasks()[0])
		}
	}
	for _, a := range task.GetInputs().GetArtifacts() {
		if n := a.GetTaskOutputArtifact().GetProducerTask(); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func (r *Resolver) mustChild(ctx context.Context, dag record.Task, task string) (record.Task, error) {
	c, err := r.child(ctx, dag, task)
	if err == nil && c == nil {
		err = &upstreamFailedError{fmt.Errorf("upstream task %q has no execution in DAG %s (did it run?)", task, dag.Label())}
	}
	return c, err
}
