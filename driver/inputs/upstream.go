package inputs

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// source is a leaf producer of a value: a container or importer execution
// and its output key.
type source struct {
	exec *mlmd.Execution
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
		return nil, fmt.Errorf("upstream task %q (execution %d, %s) has no output parameter %q",
			s.exec.TaskName(), s.exec.ID(), s.exec.State(), s.key)
	}
	return v, nil
}

// sources finds the leaf producers of producerTask's output key in the
// parent DAG: one, or many when the output is collected from a ParallelFor.
func (r *Resolver) sources(ctx context.Context, producerTask, key string, param bool) ([]source, bool, error) {
	exec, err := r.mustChild(ctx, r.parent, producerTask)
	if err != nil {
		return nil, false, err
	}
	for exec.IsDAG() {
		if _, loop := exec.IterationCount(); loop {
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
func (r *Resolver) through(ctx context.Context, dag *mlmd.Execution, key string, param bool) (*mlmd.Execution, string, error) {
	cands, err := producers(dag, key, param)
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
		if c != nil && (c.State() == pb.Execution_COMPLETE || c.State() == pb.Execution_CACHED) {
			return c, cand.Key, nil
		}
	}
	return nil, "", fmt.Errorf("none of the %d oneOf branches of DAG task %q output %q completed", len(cands), dag.TaskName(), key)
}

// collect gathers key from every iteration of a ParallelFor loop DAG, in
// iteration order; nested loops are flattened. Iterations whose producer
// was skipped by a condition contribute nothing.
func (r *Resolver) collect(ctx context.Context, exec *mlmd.Execution, key string, param bool) ([]source, error) {
	if exec.State() == pb.Execution_CANCELED {
		return nil, nil // a condition inside the loop body was false
	}
	if !exec.IsDAG() {
		return []source{{exec, key}}, nil
	}
	if _, loop := exec.IterationCount(); !loop {
		next, nextKey, err := r.through(ctx, exec, key, param)
		if err != nil {
			return nil, err
		}
		return r.collect(ctx, next, nextKey, param)
	}
	iterations, err := r.childrenOf(ctx, exec)
	if err != nil {
		return nil, err
	}
	iterations = byIteration(iterations)
	var out []source
	for _, it := range iterations {
		next, nextKey, err := r.through(ctx, it, key, param)
		if err != nil {
			return nil, err
		}
		srcs, err := r.collect(ctx, next, nextKey, param)
		if err != nil {
			return nil, err
		}
		out = append(out, srcs...)
	}
	return out, nil
}

func byIteration(execs []*mlmd.Execution) []*mlmd.Execution {
	out := append([]*mlmd.Execution(nil), execs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := out[i].IterationIndex()
		b, _ := out[j].IterationIndex()
		return a < b
	})
	return out
}
