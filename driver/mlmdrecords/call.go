package mlmdrecords

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// call is one DAG or CONTAINER call's view of its run in MLMD.
type call struct {
	b      *Backend
	client *mlmd.Client
	run    *mlmd.Run
	parent *mlmd.Execution
	req    *driver.Request
	name   string // the execution name
}

func (c *call) Request() *driver.Request { return c.req }
func (c *call) Parent() record.Task      { return c.parent }
func (c *call) Store() record.Store      { return mlmd.RunStore{Client: c.client, Run: c.run} }
func (c *call) PipelineRoot() string     { return c.run.PipelineRoot }
func (c *call) StepName() string         { return c.name }

// Existing finds this call's container execution.
func (c *call) Existing(ctx context.Context) (*record.Written, error) {
	exec, err := c.client.ExecutionByName(ctx, mlmd.ContainerExecutionType, c.name)
	if err != nil || exec == nil {
		return nil, err
	}
	return written(exec, false), nil
}

// states are the MLMD states the driver writes.
var states = map[record.Status]pb.Execution_State{
	record.Running:   pb.Execution_RUNNING,
	record.Skipped:   pb.Execution_CANCELED,
	record.Cached:    pb.Execution_CACHED,
	record.Succeeded: pb.Execution_COMPLETE,
}

// Write creates the execution with its properties and events in one
// PutExecution, or finds the one an earlier call created.
func (c *call) Write(ctx context.Context, step record.Step) (*record.Written, error) {
	state, ok := states[step.Status]
	if !ok {
		return nil, fmt.Errorf("task %q: a driver step is never recorded as %d", c.req.TaskName, step.Status)
	}
	props := c.taskProps(step.Inputs.GetParameterValues())
	n := mlmd.NewExecution{Name: c.name, State: state, Props: props}
	var err error
	if step.Kind == record.DAGStep {
		n.TypeName = mlmd.DAGExecutionType
		err = dagProps(props, step)
	} else {
		n.TypeName = mlmd.ContainerExecutionType
		n.Outputs, err = containerProps(props, step)
	}
	if err != nil {
		return nil, err
	}
	c.b.withLogURI(props, c.run.PipelineRoot, c.name)
	if n.Inputs, err = mlmd.InputRefs(step.Inputs); err != nil {
		return nil, err
	}
	exec, created, err := c.client.CreateExecution(ctx, c.run, n)
	if err != nil {
		return nil, err
	}
	return written(exec, created), nil
}

// taskProps are the custom properties every non-root execution carries.
func (c *call) taskProps(params map[string]*structpb.Value) map[string]*pb.Value {
	req := c.req
	props := map[string]*pb.Value{
		mlmd.PropTaskName:    mlmd.StringValue(req.TaskName),
		mlmd.PropDisplayName: mlmd.StringValue(req.Task.GetTaskInfo().GetName()),
		mlmd.PropParentDAGID: mlmd.IntValue(req.DAGExecutionID),
		mlmd.PropInputs:      mlmd.StructValue(params),
	}
	if req.IterationIndex >= 0 {
		props[mlmd.PropIterationIndex] = mlmd.IntValue(int64(req.IterationIndex))
	}
	return props
}

func dagProps(props map[string]*pb.Value, step record.Step) error {
	producers, err := mlmd.ProducerProps(step.DAG)
	if err != nil {
		return err
	}
	for k, v := range producers {
		props[k] = v
	}
	props[mlmd.PropTotalDAGTasks] = mlmd.IntValue(int64(len(step.DAG.GetTasks())))
	if step.IterationCount != nil {
		props[mlmd.PropIterationCount] = mlmd.IntValue(int64(*step.IterationCount))
	}
	return nil
}

// containerProps adds a container execution's properties and returns the
// OUTPUT events of reused or driver-made outputs.
func containerProps(props map[string]*pb.Value, step record.Step) ([]mlmd.ArtifactRef, error) {
	for _, k := range []string{mlmd.PropPodName, mlmd.PropPodUID, mlmd.PropNamespace, mlmd.PropImage} {
		props[k] = mlmd.StringValue("")
	}
	if step.Fingerprint != "" {
		props[mlmd.PropCacheFingerprint] = mlmd.StringValue(step.Fingerprint)
	}
	out := step.Outputs
	if out == nil {
		return nil, nil
	}
	if out.From != "" {
		props[mlmd.PropCachedExecutionID] = mlmd.StringValue(out.From)
	}
	props[mlmd.PropOutputs] = mlmd.StructValue(out.Parameters)
	refs := make([]mlmd.ArtifactRef, 0, len(out.Artifacts))
	for _, a := range out.Artifacts {
		id, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("output artifact %q: %q is not an MLMD artifact ID", a.Key, a.ID)
		}
		refs = append(refs, mlmd.ArtifactRef{Key: a.Key, ArtifactID: id})
	}
	return refs, nil
}

// Settle propagates DAG states upwards from the DAG execution dag.
func (c *call) Settle(ctx context.Context, dag string) error {
	id, err := parseID(dag)
	if err != nil {
		return err
	}
	return c.client.PropagateDAGState(ctx, c.run, id)
}

// CacheHit looks the fingerprint up in the task cache and reads the cached
// execution's outputs.
func (c *call) CacheHit(ctx context.Context, fp string, want *pipelinespec.ExecutorInput_Outputs) (*record.Outputs, error) {
	cc, err := c.b.Cache()
	if err != nil {
		return nil, err
	}
	id, hit, err := cc.Lookup(ctx, c.req.Namespace, c.req.PipelineName, fp)
	if err != nil || !hit {
		return nil, err
	}
	execID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, nil // an entry we cannot use is a miss
	}
	return c.cachedOutputs(ctx, execID, want)
}

func (c *call) cachedOutputs(ctx context.Context, execID int64, want *pipelinespec.ExecutorInput_Outputs) (*record.Outputs, error) {
	execs, err := c.client.ExecutionsByID(ctx, execID)
	if err != nil || len(execs) == 0 {
		return nil, err
	}
	refs, err := c.client.OutputRefs(ctx, execID)
	if err != nil {
		return nil, err
	}
	out := &record.Outputs{From: strconv.FormatInt(execID, 10), Parameters: execs[0].Outputs()}
	if out.Parameters == nil {
		out.Parameters = map[string]*structpb.Value{}
	}
	for name := range want.GetArtifacts() {
		n := len(out.Artifacts)
		for _, ref := range refs {
			if ref.Key == name {
				out.Artifacts = append(out.Artifacts, record.OutputArtifact{Key: ref.Key, ID: strconv.FormatInt(ref.ArtifactID, 10)})
			}
		}
		if len(out.Artifacts) == n && name != executor.LogsArtifact {
			return nil, nil
		}
	}
	for name := range want.GetParameters() {
		if _, ok := out.Parameters[name]; !ok {
			return nil, nil
		}
	}
	return out, nil
}

// Cached adds a task cache entry for a step the driver finished itself.
func (c *call) Cached(ctx context.Context, w *record.Written, fp string) error {
	cc, err := c.b.Cache()
	if err != nil {
		return err
	}
	rec, ok := cc.(cacheRecorder)
	if !ok {
		return nil
	}
	now := c.b.Now()
	return rec.Record(ctx, cache.Entry{Namespace: c.req.Namespace, PipelineName: c.req.PipelineName, RunID: c.req.RunID,
		ExecutionID: w.ExecutionID, Fingerprint: fp, StartedAt: now, FinishedAt: now})
}

// LauncherCommand runs KFP 2.x's launcher on the execution.
func (c *call) LauncherCommand(w *record.Written, in *pipelinespec.ExecutorInput, _ string) ([]string, error) {
	return executor.MLMDCommand(executor.Launcher{
		PipelineName: c.req.PipelineName, RunID: c.req.RunID, ExecutionID: w.ExecutionID,
		Input: in, Component: c.req.Component, Options: c.req.Options,
	})
}
