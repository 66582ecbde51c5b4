package apirecords

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// call is one DAG or CONTAINER call's view of its run (record.Call).
type call struct {
	b      *Backend
	client *kfpapi.Client
	info   *runInfo
	parent *pb.PipelineTask // the parent task (a loop for its iterations' tasks)
	// parentRec is the parent as decisions read it: the iteration of the
	// loop for its tasks.
	parentRec record.Task
	req       *driver.Request // with the specs found in the run
	scope     string          // this task's scope path
	store     *store
	name      string
}

var _ record.Call = (*call)(nil)

func (c *call) Parent() record.Task      { return c.parentRec }
func (c *call) Store() record.Store      { return c.store }
func (c *call) PipelineRoot() string     { return c.info.root }
func (c *call) StepName() string         { return c.name }
func (c *call) Request() *driver.Request { return c.req }
func (c *call) spec() *runSpec           { return c.info.spec }
func (c *call) parentName() string       { return c.parent.GetName() }

// Existing finds this call's task among the parent's children.
func (c *call) Existing(ctx context.Context) (*record.Written, error) {
	kids, err := c.client.Children(ctx, c.req.RunID, []string{c.parent.GetTaskId()}, c.req.TaskName)
	if err != nil {
		return nil, err
	}
	for _, t := range kids {
		if t.GetName() == c.req.TaskName && t.GetScopePath() == c.scope && sameIteration(t, c.req.IterationIndex) {
			w := c.b.written(t, c.info.spec, nil)
			w.Created = false
			return w, nil
		}
	}
	return nil, nil
}

func sameIteration(t *pb.PipelineTask, i int) bool {
	a := t.GetTypeAttributes()
	if a == nil || a.IterationIndex == nil {
		return i < 0
	}
	return int(a.GetIterationIndex()) == i
}

// states are the task states the driver writes.
var states = map[record.Status]pb.PipelineTask_TaskState{
	record.Running:   pb.PipelineTask_RUNNING,
	record.Skipped:   pb.PipelineTask_SKIPPED,
	record.Cached:    pb.PipelineTask_CACHED,
	record.Succeeded: pb.PipelineTask_SUCCEEDED,
}

// Write creates the task (the server answers a repeated create with the
// stored task) and links its input artifacts, and on a cache hit its
// outputs, once.
func (c *call) Write(ctx context.Context, step record.Step) (*record.Written, error) {
	state, ok := states[step.Status]
	if !ok {
		return nil, fmt.Errorf("task %q: a driver step is never recorded as %d", c.req.TaskName, step.Status)
	}
	sent := c.b.createTime()
	t := c.newTask(step, state, sent)
	got, err := c.client.CreateTask(ctx, t)
	if err != nil {
		return nil, err
	}
	w := c.b.written(got, c.info.spec, sent)
	links := inputLinks(c.req, got.GetTaskId(), c.parentName(), step.Inputs)
	if out := step.Outputs; out != nil {
		links = append(links, c.outputLinks(got.GetTaskId(), out)...)
	}
	if err := c.link(ctx, got.GetTaskId(), links, w.Created); err != nil {
		return nil, fmt.Errorf("task %q: linking artifacts: %w", c.req.TaskName, err)
	}
	return w, nil
}

// link makes the task's artifact links. A repeated call (or one that only
// looks first, its create answered within the same second as an earlier
// call's) links only what the task does not show yet: an earlier call may
// have stopped between the task and its links, and the server refuses a
// duplicate link.
func (c *call) link(ctx context.Context, taskID string, links []*pb.ArtifactTask, first bool) error {
	if len(links) == 0 {
		return nil
	}
	if first {
		err := c.client.LinkArtifacts(ctx, c.req.RunID, links)
		if err == nil || driver.IsTransient(err) || mlmd.IsUnreachable(err) { // the gRPC classifier flow's classify uses
			return err
		}
	}
	t, err := c.client.GetTask(ctx, c.req.RunID, taskID)
	if err != nil {
		return err
	}
	return c.client.LinkArtifacts(ctx, c.req.RunID, slices.DeleteFunc(links, func(l *pb.ArtifactTask) bool { return linkedAlready(t, l) }))
}

// linkedAlready reports whether t shows the artifact link l.
func linkedAlready(t *pb.PipelineTask, l *pb.ArtifactTask) bool {
	io := t.GetInputs()
	if l.GetType() == pb.IOType_OUTPUT {
		io = t.GetOutputs()
	}
	for _, a := range io.GetArtifacts() {
		if a.GetArtifactKey() != l.GetKey() {
			continue
		}
		for _, art := range a.GetArtifacts() {
			if art.GetArtifactId() == l.GetArtifactId() {
				return true
			}
		}
	}
	return false
}

func (c *call) newTask(step record.Step, state pb.PipelineTask_TaskState, sent *timestamppb.Timestamp) *pb.PipelineTask {
	req := c.req
	t := &pb.PipelineTask{
		Name: req.TaskName, DisplayName: req.Task.GetTaskInfo().GetName(), RunId: req.RunID,
		Type: pb.PipelineTask_RUNTIME, State: state, ScopePath: c.scope, CreateTime: sent,
		ParentTaskId: &c.parent.TaskId, CacheFingerprint: step.Fingerprint,
		TypeAttributes: &pb.PipelineTask_TypeAttributes{},
		Inputs:         &pb.PipelineTask_InputOutputs{Parameters: inputParams(req, c.parentName(), step.Inputs)},
	}
	if step.Kind == record.DAGStep {
		t.Type = dagType(req)
	}
	if req.IterationIndex >= 0 {
		i := int64(req.IterationIndex)
		t.TypeAttributes.IterationIndex = &i
	}
	if step.IterationCount != nil {
		n := int64(*step.IterationCount)
		t.TypeAttributes.IterationCount = &n
	}
	if state != pb.PipelineTask_RUNNING {
		t.EndTime = sent
	}
	if out := step.Outputs; out != nil {
		t.Outputs = &pb.PipelineTask_InputOutputs{Parameters: c.outputParams(out.Parameters)}
		if out.From != "" {
			setProp(t, propCachedTaskID, structpb.NewStringValue(out.From))
		}
	}
	c.b.withLogURI(t, c.info.root, c.name)
	return t
}

// dagType is the kind of DAG task, as KFP's native driver infers it.
func dagType(req *driver.Request) pb.PipelineTask_TaskType {
	task := req.Task
	switch {
	case (task.GetParameterIterator() != nil || task.GetArtifactIterator() != nil) && req.IterationIndex < 0:
		return pb.PipelineTask_LOOP
	case task.GetTriggerPolicy().GetCondition() != "":
		return pb.PipelineTask_CONDITION_BRANCH
	case strings.HasPrefix(req.TaskName, "condition") && !strings.HasPrefix(req.TaskName, "condition-branch"):
		return pb.PipelineTask_CONDITION
	}
	return pb.PipelineTask_DAG
}

func (c *call) outputParams(values map[string]*structpb.Value) []*pb.PipelineTask_InputOutputs_IOParameter {
	out := make([]*pb.PipelineTask_InputOutputs_IOParameter, 0, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		out = append(out, &pb.PipelineTask_InputOutputs_IOParameter{ParameterKey: name, Value: values[name],
			Type: pb.IOType_OUTPUT, Producer: producer(c.req.TaskName, c.req.IterationIndex)})
	}
	return out
}

func (c *call) outputLinks(taskID string, out *record.Outputs) []*pb.ArtifactTask {
	links := make([]*pb.ArtifactTask, 0, len(out.Artifacts))
	for _, a := range out.Artifacts {
		links = append(links, &pb.ArtifactTask{ArtifactId: a.ID, RunId: c.req.RunID, TaskId: taskID,
			Type: pb.IOType_OUTPUT, Producer: producer(c.req.TaskName, c.req.IterationIndex), Key: a.Key})
	}
	return links
}

// CacheHit asks the API server for the newest succeeded task with the
// fingerprint in the namespace.
func (c *call) CacheHit(ctx context.Context, fp string, want *pipelinespec.ExecutorInput_Outputs) (*record.Outputs, error) {
	hit, err := c.client.FindCachedTask(ctx, c.req.RunID, c.req.Namespace, fp)
	if err != nil || hit == nil {
		return nil, err
	}
	out := &record.Outputs{From: hit.GetTaskId(), Parameters: params(hit.GetOutputs())}
	for _, a := range hit.GetOutputs().GetArtifacts() {
		for _, art := range a.GetArtifacts() {
			out.Artifacts = append(out.Artifacts, record.OutputArtifact{Key: a.GetArtifactKey(), ID: art.GetArtifactId()})
		}
	}
	for name := range want.GetArtifacts() {
		if !slices.ContainsFunc(out.Artifacts, func(a record.OutputArtifact) bool { return a.Key == name }) && name != executor.LogsArtifact {
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

// Cached: a succeeded task with its fingerprint is already what later
// lookups find.
func (c *call) Cached(context.Context, *record.Written, string) error { return nil }

// LauncherCommand runs KFP master's launcher on the task.
func (c *call) LauncherCommand(w *record.Written, in *pipelinespec.ExecutorInput, fp string) ([]string, error) {
	return executor.NativeCommand(executor.Native{
		PipelineName: c.req.PipelineName, RunID: c.req.RunID, TaskID: w.TaskID, ParentTaskID: c.parent.GetTaskId(),
		TaskName: c.req.TaskName, Fingerprint: fp, IterationIndex: c.req.IterationIndex,
		Input: in, Options: c.req.Options,
	})
}
