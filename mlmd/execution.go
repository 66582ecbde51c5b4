package mlmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"
)

// Execution is an MLMD execution with its type name resolved and typed
// accessors for KFP's custom properties.
type Execution struct {
	Proto    *pb.Execution
	TypeName string
}

// ID is the MLMD execution ID.
func (e *Execution) ID() int64 { return e.Proto.GetId() }

// Name is the execution name ("" for executions KFP's launcher creates).
func (e *Execution) Name() string { return e.Proto.GetName() }

// State is the last known state.
func (e *Execution) State() pb.Execution_State { return e.Proto.GetLastKnownState() }

// IsDAG reports whether this is a DAG (not a container or importer) execution.
func (e *Execution) IsDAG() bool { return e.TypeName == DAGExecutionType }

// String returns a string custom property ("" when absent).
func (e *Execution) String(key string) string {
	return stringProp(e.Proto.GetCustomProperties(), key)
}

// Int returns an int custom property and whether it is present.
func (e *Execution) Int(key string) (int64, bool) {
	return intProp(e.Proto.GetCustomProperties(), key)
}

// TaskName is the task's key in its parent DAG.
func (e *Execution) TaskName() string { return e.String(PropTaskName) }

// ParentDAGID is the parent DAG execution's ID (0 for the root).
func (e *Execution) ParentDAGID() int64 {
	id, _ := e.Int(PropParentDAGID)
	return id
}

// IterationIndex is the ParallelFor iteration this execution runs, if any.
func (e *Execution) IterationIndex() (int, bool) {
	i, ok := e.Int(PropIterationIndex)
	return int(i), ok
}

// IterationCount is the item count of a ParallelFor loop DAG, if this is one.
func (e *Execution) IterationCount() (int, bool) {
	n, ok := e.Int(PropIterationCount)
	return int(n), ok
}

// Struct returns a struct custom property's fields (nil when absent).
func (e *Execution) Struct(key string) map[string]*structpb.Value {
	return e.Proto.GetCustomProperties()[key].GetStructValue().GetFields()
}

// Inputs are the resolved input parameters the driver recorded.
func (e *Execution) Inputs() map[string]*structpb.Value { return e.Struct(PropInputs) }

// Outputs are the output parameters the launcher (or a cache hit) recorded.
func (e *Execution) Outputs() map[string]*structpb.Value { return e.Struct(PropOutputs) }

// ExecutionsByID reads executions; missing IDs are simply absent from the
// result. One round trip (two the first time an unknown type is seen).
func (c *Client) ExecutionsByID(ctx context.Context, ids ...int64) ([]*Execution, error) {
	r, err := c.svc.GetExecutionsByID(ctx, &pb.GetExecutionsByIDRequest{ExecutionIds: ids})
	if err != nil {
		return nil, fmt.Errorf("reading executions %v: %w", ids, err)
	}
	return c.wrap(ctx, r.GetExecutions())
}

// ExecutionByID reads one execution; a missing one is an error.
func (c *Client) ExecutionByID(ctx context.Context, id int64) (*Execution, error) {
	es, err := c.ExecutionsByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("execution %d not found in MLMD", id)
	}
	return es[0], nil
}

// ParentDAG reads a DAG execution for the steps that run under it. Only
// what never changes after creation may be used from the result: ID, type,
// task name, parent, iteration index and count, inputs, output mappings.
// Its state is whatever it was when first read. That makes it safe to keep
// in memory: the first call per DAG costs one round trip, later ones none.
func (c *Client) ParentDAG(ctx context.Context, id int64) (*Execution, error) {
	c.mu.Lock()
	e, ok := c.dags[id]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := c.ExecutionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.IsDAG() {
		c.mu.Lock()
		if len(c.dags) >= maxCachedDAGs {
			clear(c.dags)
		}
		c.dags[id] = e
		c.mu.Unlock()
	}
	return e, nil
}

// ExecutionByName reads the execution with that type and name; nil when
// there is none.
func (c *Client) ExecutionByName(ctx context.Context, typeName, name string) (*Execution, error) {
	r, err := c.svc.GetExecutionByTypeAndName(ctx, &pb.GetExecutionByTypeAndNameRequest{
		TypeName: &typeName, ExecutionName: &name,
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s execution %q: %w", typeName, name, err)
	}
	if r.GetExecution() == nil {
		return nil, nil
	}
	es, err := c.wrap(ctx, []*pb.Execution{r.GetExecution()})
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// Children lists the executions whose parent_dag_id is dagID, within the
// run; with taskNames, only the children with those task_name values. The
// cost follows the number of matching children, never the size of the run.
// One round trip per 100 matches.
func (c *Client) Children(ctx context.Context, run *Run, dagID int64, taskNames ...string) ([]*Execution, error) {
	return c.ChildrenOf(ctx, run, []int64{dagID}, taskNames...)
}

// ChildrenOf is Children of several DAG executions in one listing (a
// ParallelFor's iterations); group the result by ParentDAGID.
func (c *Client) ChildrenOf(ctx context.Context, run *Run, dagIDs []int64, taskNames ...string) ([]*Execution, error) {
	ids := make([]string, len(dagIDs))
	for i, id := range dagIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	filter := fmt.Sprintf("custom_properties.%s.int_value IN (%s)", PropParentDAGID, strings.Join(ids, ", "))
	if len(dagIDs) == 1 {
		filter = fmt.Sprintf("custom_properties.%s.int_value = %d", PropParentDAGID, dagIDs[0])
	}
	if len(taskNames) > 0 {
		quoted := make([]string, len(taskNames))
		for i, n := range taskNames {
			quoted[i] = "'" + strings.ReplaceAll(n, "'", "''") + "'"
		}
		filter += fmt.Sprintf(" AND custom_properties.%s.string_value IN (%s)", PropTaskName, strings.Join(quoted, ", "))
	}
	var all []*pb.Execution
	var token *string
	for {
		size := int32(100)
		r, err := c.svc.GetExecutionsByContext(ctx, &pb.GetExecutionsByContextRequest{
			ContextId: &run.RunContext,
			Options:   &pb.ListOperationOptions{MaxResultSize: &size, FilterQuery: &filter, NextPageToken: token},
		})
		if err != nil {
			return nil, fmt.Errorf("listing tasks of DAG executions %v: %w", dagIDs, err)
		}
		all = append(all, r.GetExecutions()...)
		if r.GetNextPageToken() == "" {
			return c.wrap(ctx, all)
		}
		next := r.GetNextPageToken()
		token = &next
	}
}

func (c *Client) wrap(ctx context.Context, execs []*pb.Execution) ([]*Execution, error) {
	names, err := c.executionTypeNames(ctx, execs)
	if err != nil {
		return nil, err
	}
	out := make([]*Execution, len(execs))
	for i, e := range execs {
		out[i] = &Execution{Proto: e, TypeName: names[e.GetTypeId()]}
	}
	return out, nil
}
