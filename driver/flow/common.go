package flow

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	cond "github.com/kfp-driver-plugin/kfp-driver-plugin/driver/condition"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// scope is what DAG and CONTAINER steps share: the run, the parent DAG
// execution and an input resolver over them.
type scope struct {
	client   *mlmd.Client
	run      *mlmd.Run
	parent   *mlmd.Execution
	resolver *inputs.Resolver
	// logRoot is the run's pipeline root when driver logs are kept, else "".
	logRoot string
}

func (s *Service) scope(ctx context.Context, client *mlmd.Client, req *driver.Request) (*scope, error) {
	// Independent reads, concurrently: one round trip of latency, and none
	// at all once the run and the types are known to this process.
	var run *mlmd.Run
	var runErr, typesErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		run, runErr = client.RunOf(ctx, req.PipelineName, req.RunID, req.DAGExecutionID)
	}()
	go func() {
		defer wg.Done()
		typesErr = client.RegisterTypes(ctx)
	}()
	parent, err := client.ParentDAG(ctx, req.DAGExecutionID)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("dag_execution_id: %w", err)
	}
	if err := errors.Join(runErr, typesErr); err != nil {
		return nil, err
	}
	if !parent.IsDAG() {
		return nil, fmt.Errorf("dag_execution_id: execution %d is a %s, not a DAG execution", parent.ID(), parent.TypeName)
	}
	return &scope{client: client, run: run, parent: parent,
		resolver: inputs.New(mlmd.RunStore{Client: client, Run: run}, parent, job(req)), logRoot: s.logRoot(run.PipelineRoot)}, nil
}

func job(req *driver.Request) inputs.Job {
	return inputs.Job{
		RunID: req.RunID, RunName: req.RunName, RunDisplayName: req.RunDisplayName,
		TaskName: req.TaskName, ParentRef: strconv.FormatInt(req.DAGExecutionID, 10),
		CreateTime: req.PipelineJobCreateTime, ScheduleTime: scheduleTime(req.ScheduleTimeEpochSecs),
	}
}

func scheduleTime(epoch string) string {
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || epoch == "" {
		return ""
	}
	return time.Unix(secs, 0).UTC().Format(time.RFC3339)
}

// driverLogURI is where the driver log of execution name belongs: under the
// run's pipeline root, named after the execution so that every call of the
// same step agrees. "" without a pipeline root.
func driverLogURI(runRoot, name string) string {
	if runRoot == "" {
		return ""
	}
	return strings.TrimRight(runRoot, "/") + "/driver-logs/" + uniqueID(name) + ".log"
}

// logRoot is runRoot when driver logs are kept: a URI is recorded only
// where a log will be written.
func (s *Service) logRoot(runRoot string) string {
	if !s.deps.DriverLogs {
		return ""
	}
	return runRoot
}

// withLogURI records the driver log's URI among an execution's properties.
func withLogURI(props map[string]*pb.Value, runRoot, name string) {
	if uri := driverLogURI(runRoot, name); uri != "" {
		props[mlmd.PropDriverLogsURI] = mlmd.StringValue(uri)
	}
}

// taskProps are the custom properties every non-root execution carries.
func taskProps(req *driver.Request, params map[string]*structpb.Value) map[string]*pb.Value {
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

// evalCondition evaluates the task's trigger condition; nil when it has none.
func evalCondition(task *pipelinespec.PipelineTaskSpec, in *pipelinespec.ExecutorInput) (*bool, error) {
	expr := task.GetTriggerPolicy().GetCondition()
	if expr == "" {
		return nil, nil
	}
	ok, err := cond.Eval(expr, in)
	if err != nil {
		return nil, fmt.Errorf("task %q: trigger condition: %w", task.GetTaskInfo().GetName(), err)
	}
	return &ok, nil
}

// uniqueID is a UUID-shaped ID derived from the execution name, so a
// repeated call provisions the same output URIs and renders the same patch.
func uniqueID(name string) string {
	h := sha256.Sum256([]byte(name))
	h[6] = h[6]&0x0f | 0x50 // version 5 layout: name-based
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func ptr[T any](v T) *T { return &v }

// executionName is the deterministic name of a DAG or CONTAINER step.
func executionName(req *driver.Request) string {
	return mlmd.ExecutionName(req.RunID, req.DAGExecutionID, req.TaskName, req.IterationIndex)
}

// settle propagates DAG states upwards after a step that ends without a
// launcher run (a cache hit, a skipped task, an empty loop), as KFP's
// launcher would after a run. Only the call that created the execution does.
func (sc *scope) settle(ctx context.Context, created bool, dagID int64) error {
	if !created {
		return nil
	}
	return sc.client.PropagateDAGState(ctx, sc.run, dagID)
}
