package inputs

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// source is a leaf producer of a value: a container or importer execution
// and its output key.
type source struct {
	exec record.Task
	key  string
}

func (r *Resolver) upstreamParameter(ctx context.Context, ref *pipelinespec.TaskInputsSpec_InputParameterSpec_TaskOutputParameterSpec) (*structpb.Value, error) {
	if ref.GetProducerTask() == "" || ref.GetOutputParameterKey() == "" {
		return nil, errors.New("task output parameter needs producerTask and outputParameterKey")
	}
	srcs, collected, err := r.sources(ctx, ref.GetProducerTask(), ref.GetOutputParameterKey(), true)
	if err != nil {
		return nil, err
	}
	if !collected {
		return outputParameter(srcs[0])
	}
	values := make([]*structpb.Value, 0, len(srcs))
	for _, s := range srcs {
		v, err := outputParameter(s)
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	return structpb.NewListValue(&structpb.ListValue{Values: values}), nil
}

func outputParameter(s source) (*structpb.Value, error) {
	v, ok := s.exec.Outputs()[s.key]
	if !ok {
		err := fmt.Errorf("upstream task %q (%s, %s) has no output parameter %q",
			s.exec.TaskName(), s.exec.Label(), s.exec.StateName(), s.key)
		if !s.exec.Status().Done() {
			err = &upstreamFailedError{err}
		}
		return nil, err
	}
	return v, nil
}

// upstreamFailedError is a value missing because its producer did not
// complete (failed, or never ran). A task that ignores upstream failures
// takes its input's default instead.
type upstreamFailedError struct{ err error }

func (e *upstreamFailedError) Error() string { return e.err.Error() }
func (e *upstreamFailedError) Unwrap() error { return e.err }

// ignoresUpstreamFailure: KFP's ignore_upstream_failure() compiles to this
// trigger strategy, and the SDK requires a default for every input such a
// task takes from an upstream task.
func ignoresUpstreamFailure(task *pipelinespec.PipelineTaskSpec) bool {
	return task.GetTriggerPolicy().GetStrategy() == pipelinespec.PipelineTaskSpec_TriggerPolicy_ALL_UPSTREAM_TASKS_COMPLETED
}

// sources finds the leaf producers of producerTask's output key in the
// parent DAG: one, or many when the output is collected from a ParallelFor.
func (r *Resolver) sources(ctx context.Context, producerTask, key string, param bool) ([]source, bool, error) {
	exec, err := r.mustChild(ctx, r.parent, producerTask)
	if err != nil {
		return nil, false, err
	}
	for exec.IsDAG() {
		if isLoop(exec) {
			srcs, err := r.collect(ctx, exec, key, param)
			return srcs, true, err
		}
		if exec, key, err = r.through(ctx, exec, key, param); err != nil {
			return nil, false, err
		}
	}
	return []source{{exec, key}}, false, nil
}

// through follows a DAG's output mapping one level down: to the subtask
// that produced key (the first finished candidate of a oneOf).
func (r *Resolver) through(ctx context.Context, dag record.Task, key string, param bool) (record.Task, string, error) {
	cands, err := dag.OutputProducers(key, param)
	if err != nil {
		return nil, "", err
	}
	if len(cands) == 1 {
		c, err := r.mustChild(ctx, dag, cands[0].Task)
		return c, cands[0].Key, err
	}
	names := make([]string, len(cands))
	for i, c := range cands {
		names[i] = c.Task
	}
	if err := r.prefetch(ctx, dag, names...); err != nil {
		return nil, "", err
	}
	for _, cand := range cands {
		c, err := r.child(ctx, dag, cand.Task)
		if err != nil {
			return nil, "", err
		}
		if c != nil && c.Status().Done() {
			return c, cand.Key, nil
		}
	}
	return nil, "", fmt.Errorf("none of the %d oneOf branches of DAG task %q output %q completed", len(cands), dag.TaskName(), key)
}

// node is a step of a collection walk: an execution and the output key
// wanted from it.
type node struct {
	exec record.Task
	key  string
}

// collect gathers key from every iteration of a ParallelFor loop DAG, in
// iteration order; nested loops are flattened. Iterations whose producer was
// skipped by a condition contribute nothing. The walk goes level by level
// and reads each level's children in one listing, so collecting from N
// iterations costs a few round trips, not N.
func (r *Resolver) collect(ctx context.Context, loop record.Task, key string, param bool) ([]source, error) {
	level := []node{{loop, key}}
	for {
		loops, dags, names, err := r.pending(level, param)
		if err != nil {
			return nil, err
		}
		if len(loops)+len(dags) == 0 {
			return leaves(level), nil
		}
		if err := r.listAll(ctx, loops); err != nil {
			return nil, err
		}
		if err := r.prefetchMany(ctx, dags, names); err != nil {
			return nil, err
		}
		if level, err = r.expand(ctx, level, param); err != nil {
			return nil, err
		}
	}
}

// pending sorts a level's DAG nodes into loops and other DAGs, with the
// subtask names the latter map their keys to.
func (r *Resolver) pending(level []node, param bool) (loops, dags []record.Task, names []string, err error) {
	seen := map[string]bool{}
	for _, n := range level {
		switch {
		case n.exec.Status() == record.Skipped || !n.exec.IsDAG():
		case isLoop(n.exec):
			loops = append(loops, n.exec)
		default:
			cands, err := n.exec.OutputProducers(n.key, param)
			if err != nil {
				return nil, nil, nil, err
			}
			dags = append(dags, n.exec)
			for _, c := range cands {
				if !seen[c.Task] {
					seen[c.Task] = true
					names = append(names, c.Task)
				}
			}
		}
	}
	return loops, dags, names, nil
}

// expand replaces each DAG node of a level by what it maps to: a loop by
// its iterations, another DAG by the subtask producing the key.
func (r *Resolver) expand(ctx context.Context, level []node, param bool) ([]node, error) {
	var next []node
	for _, n := range level {
		switch {
		case n.exec.Status() == record.Skipped:
		case !n.exec.IsDAG():
			next = append(next, n)
		case isLoop(n.exec):
			its, err := r.childrenOf(ctx, n.exec)
			if err != nil {
				return nil, err
			}
			for _, it := range byIteration(its) {
				next = append(next, node{it, n.key})
			}
		default:
			sub, key, err := r.through(ctx, n.exec, n.key, param)
			if err != nil {
				return nil, err
			}
			next = append(next, node{sub, key})
		}
	}
	return next, nil
}

func leaves(level []node) []source {
	var out []source
	for _, n := range level {
		if n.exec.Status() != record.Skipped {
			out = append(out, source{n.exec, n.key})
		}
	}
	return out
}

func isLoop(e record.Task) bool {
	_, ok := e.IterationCount()
	return ok
}

func byIteration(execs []record.Task) []record.Task {
	out := append([]record.Task(nil), execs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := out[i].IterationIndex()
		b, _ := out[j].IterationIndex()
		return a < b
	})
	return out
}
