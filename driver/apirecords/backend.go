// Package apirecords keeps the driver's records in the KFP API server's
// task and artifact APIs (KFP master, the 3.0 line): the native line's
// record.Backend.
//
// A native call carries no component, task or container spec: the run's
// stored pipeline spec (GetRun, or the pipeline version it was created
// from) is read once per run and process, and each call finds its task
// below the parent task's scope path. Repeated calls are safe because the
// API server answers a CreateTask equal to a stored task (run, parent,
// scope path, name, type, iteration) with the stored task; whether this
// call created it is told by the create time it sent (whole seconds, so a
// repeat within the same second counts as created, which only changes the
// message and repeats an idempotent DAG state update). A repeated call
// reads its task back and adds the artifact links an earlier call did not
// get to (the server refuses duplicate links).
//
// Round trips: the first call of a run in a process reads the run (and its
// pipeline version), the first call under a parent reads the parent task;
// then a call lists the producers it reads, by parent and name, one
// listing per DAG level (artifacts come hydrated with the tasks), writes
// its task and links its input artifacts: 3 for a CONTAINER call with
// upstream artifacts (BenchmarkNativeContainer3Inputs), whatever the
// number of sibling tasks.
package apirecords

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/pipelineroot"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/memo"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

// Backend is the native line's record.Backend. Safe for concurrent use.
type Backend struct {
	// Tasks holds the connection to the configured API server (never a
	// request's); Endpoint locates and secures it.
	Tasks    *mlpipeline.Pool
	Endpoint mlpipeline.Options
	// Token authenticates calls about a run; nil sends none.
	Token kfpapi.TokenSource
	// Kube reads the namespace's kfp-launcher ConfigMap (pipeline root).
	Kube       kube.Interface
	DriverLogs bool
	Now        func() time.Time

	once    sync.Once
	client  *kfpapi.Client
	err     error
	runs    *memo.Map[string, *runInfo]
	parents *memo.Map[string, *pb.PipelineTask]
}

var _ record.Backend = (*Backend)(nil)

// runInfo is what every call of a run needs and no call changes.
type runInfo struct {
	spec    *runSpec
	root    string // the run's own pipeline root
	session string
}

// Client is the API client of the configured server (its Calls counts
// round trips).
func (b *Backend) Client() (*kfpapi.Client, error) {
	b.once.Do(func() {
		conn, err := b.Tasks.Conn(b.Endpoint)
		if err != nil {
			b.err = err
			return
		}
		b.client = kfpapi.New(conn, b.Endpoint.Address, b.Token)
		b.runs = memo.New[string, *runInfo](8 << 20)
		b.parents = memo.New[string, *pb.PipelineTask](4 << 20)
	})
	return b.client, b.err
}

// Root creates the run's root task with the run's input parameters.
func (b *Backend) Root(ctx context.Context, req *driver.Request, _ record.Root) (*record.Written, error) {
	client, err := b.Client()
	if err != nil {
		return nil, err
	}
	info, err := b.run(ctx, client, req)
	if err != nil {
		return nil, err
	}
	sent := b.createTime()
	t := &pb.PipelineTask{
		Name: "ROOT", DisplayName: req.RunDisplayName, RunId: req.RunID, Type: pb.PipelineTask_ROOT,
		State: pb.PipelineTask_RUNNING, ScopePath: rootScope, CreateTime: sent,
		TypeAttributes: &pb.PipelineTask_TypeAttributes{},
		Inputs:         &pb.PipelineTask_InputOutputs{Parameters: runtimeParams(req)},
	}
	b.withLogURI(t, info.root, rootName(req.RunID))
	got, err := client.CreateTask(ctx, t)
	if err != nil {
		return nil, err
	}
	return b.written(got, info.spec, sent), nil
}

// Open reads the parent task and finds this call's task in the run's spec.
func (b *Backend) Open(ctx context.Context, req *driver.Request) (record.Call, error) {
	client, err := b.Client()
	if err != nil {
		return nil, err
	}
	info, err := b.run(ctx, client, req)
	if err != nil {
		return nil, err
	}
	parent, err := b.parent(ctx, client, req)
	if err != nil {
		return nil, fmt.Errorf("parent_task_id: %w", err)
	}
	if parent.GetRunId() != req.RunID {
		return nil, fmt.Errorf("parent_task_id: task %s belongs to run %s, not to run %s", req.ParentTaskID, parent.GetRunId(), req.RunID)
	}
	if (&task{t: parent}).IsDAG() == false {
		return nil, fmt.Errorf("parent_task_id: task %s is a %s task, not a DAG", req.ParentTaskID, parent.GetType())
	}
	hydrated, scope, err := hydrate(req, info.spec, parent.GetScopePath())
	if err != nil {
		return nil, err
	}
	st := newStore(client, req.RunID, info.spec, parent)
	var rec record.Task = &task{t: parent, spec: info.spec}
	if req.IterationIndex >= 0 && isLoop(parent) {
		// A task of a ParallelFor's iteration: its parent is the loop.
		if rec, err = st.iteration(parent, req.IterationIndex); err != nil {
			return nil, err
		}
	}
	return &call{b: b, client: client, info: info, parent: parent, parentRec: rec, req: hydrated, scope: scope,
		store: st, name: stepName(req)}, nil
}

// parent reads the parent DAG task, once per process: what a call uses of
// it (run, type, scope path, inputs and their artifacts) is fixed when the
// parent's own driver call returns, before any child can start. Its child
// list, which grows, is not kept.
func (b *Backend) parent(ctx context.Context, client *kfpapi.Client, req *driver.Request) (*pb.PipelineTask, error) {
	if t, ok := b.parents.Get(req.ParentTaskID); ok {
		return t, nil
	}
	t, err := client.GetTask(ctx, req.RunID, req.ParentTaskID)
	if err != nil {
		return nil, err
	}
	t.ChildTasks = nil
	b.parents.Put(req.ParentTaskID, t, proto.Size(t))
	return t, nil
}

// hydrate fills the specs the native line does not pass: the task below
// the parent's scope path, its component and its container. (A task of a
// loop's iteration has the loop as parent, whose scope runs the body.)
func hydrate(req *driver.Request, spec *runSpec, parentScope string) (*driver.Request, string, error) {
	name, scope := req.TaskName, parentScope+"."+req.TaskName
	c, err := spec.child(parentScope, name)
	if err != nil {
		return nil, "", err
	}
	out := *req
	out.Task, out.Component = c.task, c.comp
	if req.Type == driver.Container {
		if c.container == nil {
			return nil, "", fmt.Errorf("task %q: the spec gives component %q no container executor", name, c.task.GetComponentRef().GetName())
		}
		out.Container = c.container
	}
	return &out, scope, nil
}

// run reads the run's spec and pipeline root once per run and process.
func (b *Backend) run(ctx context.Context, client *kfpapi.Client, req *driver.Request) (*runInfo, error) {
	if info, ok := b.runs.Get(req.RunID); ok {
		return info, nil
	}
	run, pipeline, err := ReadSpec(ctx, client, req.RunID)
	if err != nil {
		return nil, err
	}
	spec, err := indexSpec(pipeline)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", req.RunID, err)
	}
	cfg, err := pipelineroot.Load(ctx, b.Kube, req.Namespace)
	if err != nil {
		return nil, err
	}
	configured := run.GetRuntimeConfig().GetPipelineRoot()
	if configured == "" {
		configured = req.RuntimeConfig.GetGcsOutputDirectory()
	}
	root, session, err := pipelineroot.Resolve(configured, cfg)
	if err != nil {
		return nil, fmt.Errorf("run %s: pipeline root: %w", req.RunID, err)
	}
	info := &runInfo{spec: spec, root: pipelineroot.ForRun(root, req.PipelineName, req.RunID), session: session}
	b.runs.Put(req.RunID, info, proto.Size(pipeline))
	return info, nil
}

func (b *Backend) createTime() *timestamppb.Timestamp {
	return timestamppb.New(b.Now().Truncate(time.Second))
}

func (b *Backend) withLogURI(t *pb.PipelineTask, runRoot, name string) {
	if !b.DriverLogs {
		return
	}
	if uri := record.LogURI(runRoot, name); uri != "" {
		setProp(t, propDriverLogsURI, structpb.NewStringValue(uri))
	}
}

// written is a task as stored; sent is the create time this call sent.
func (b *Backend) written(t *pb.PipelineTask, spec *runSpec, sent *timestamppb.Timestamp) *record.Written {
	props := t.GetStatusMetadata().GetCustomProperties()
	w := &record.Written{Task: &task{t: t, spec: spec}, TaskID: t.GetTaskId(),
		Created: t.GetCreateTime().AsTime().Equal(sent.AsTime()), LogURI: props[propDriverLogsURI].GetStringValue()}
	if id := props[propCachedTaskID].GetStringValue(); id != "" {
		w.CachedFrom = "task " + id
	}
	return w
}

// The status metadata properties this driver adds (KFP's native driver
// has no fields for them).
const (
	propCachedTaskID  = "cached_task_id"
	propDriverLogsURI = "driver_logs_uri"
)

func setProp(t *pb.PipelineTask, key string, v *structpb.Value) {
	if t.StatusMetadata == nil {
		t.StatusMetadata = &pb.PipelineTask_StatusMetadata{}
	}
	if t.StatusMetadata.CustomProperties == nil {
		t.StatusMetadata.CustomProperties = map[string]*structpb.Value{}
	}
	t.StatusMetadata.CustomProperties[key] = v
}

func rootName(runID string) string { return "run/" + runID }

// stepName is the deterministic name of a DAG or CONTAINER call's task.
func stepName(req *driver.Request) string {
	name := fmt.Sprintf("run/%s/task/%s/child/%s", req.RunID, req.ParentTaskID, req.TaskName)
	if req.IterationIndex >= 0 {
		name += fmt.Sprintf("/iteration/%d", req.IterationIndex)
	}
	return name
}
