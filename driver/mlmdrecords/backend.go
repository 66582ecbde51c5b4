// Package mlmdrecords keeps the driver's records in ML Metadata exactly as
// KFP 2.x's driver does (types, contexts, custom properties, events), so
// KFP's launcher, UI and cache keep working: the MLMD line's
// record.Backend. Every execution has a deterministic name (see package
// mlmd), so a repeated call finds the execution the first call created.
package mlmdrecords

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// Cache is the MLMD line's task cache: entries in the API server's v1
// TaskService pointing at MLMD executions (*cache.Cache).
type Cache interface {
	Lookup(ctx context.Context, namespace, pipelineName, fingerprint string) (string, bool, error)
}

// cacheRecorder is a Cache that can also add entries (the driver adds one
// for the PVC ops it finishes itself).
type cacheRecorder interface {
	Record(context.Context, cache.Entry) error
}

// Backend is the MLMD line's record.Backend.
type Backend struct {
	// MLMD is the client pool; Endpoint is the configured store (never a
	// request's).
	MLMD     *mlmd.Pool
	Endpoint mlmd.Endpoint
	Cache    func() (Cache, error)
	// DriverLogs: executions record where their driver log is kept.
	DriverLogs bool
	Now        func() time.Time
}

var _ record.Backend = (*Backend)(nil)

// Client is the pooled MLMD client of the configured endpoint (its Calls
// counts round trips).
func (b *Backend) Client() (*mlmd.Client, error) { return b.MLMD.Get(b.Endpoint) }

// Prepare registers KFP's types ahead of the first call.
func (b *Backend) Prepare(ctx context.Context) error {
	client, err := b.Client()
	if err != nil {
		return err
	}
	return client.RegisterTypes(ctx)
}

// Root creates the run's contexts and its root DAG execution.
func (b *Backend) Root(ctx context.Context, req *driver.Request, root record.Root) (*record.Written, error) {
	client, err := b.Client()
	if err != nil {
		return nil, err
	}
	run, err := client.EnsureRun(ctx, mlmd.RunSpec{
		PipelineName: req.PipelineName, RunID: req.RunID, Namespace: req.Namespace,
		PipelineRoot: root.PipelineRoot, StoreSessionInfo: root.StoreSessionInfo,
	})
	if err != nil {
		return nil, err
	}
	props := map[string]*pb.Value{
		mlmd.PropDisplayName: mlmd.StringValue(""),
		mlmd.PropTaskName:    mlmd.StringValue(""),
	}
	if params := req.RuntimeConfig.GetParameterValues(); len(params) > 0 {
		props[mlmd.PropInputs] = mlmd.StructValue(params)
	}
	name := mlmd.RootExecutionName(req.RunID)
	b.withLogURI(props, run.PipelineRoot, name)
	exec, created, err := client.CreateExecution(ctx, run, mlmd.NewExecution{
		TypeName: mlmd.DAGExecutionType, Name: name, State: pb.Execution_RUNNING, Props: props,
	})
	if err != nil {
		return nil, err
	}
	return written(exec, created), nil
}

// Open reads the run and the parent DAG execution, concurrently: one round
// trip of latency, and none at all for the run and the types once this
// process knows them.
func (b *Backend) Open(ctx context.Context, req *driver.Request) (record.Call, error) {
	client, err := b.Client()
	if err != nil {
		return nil, err
	}
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
	return &call{b: b, client: client, run: run, parent: parent, req: req,
		name: mlmd.ExecutionName(req.RunID, req.DAGExecutionID, req.TaskName, req.IterationIndex)}, nil
}

// withLogURI records the driver log's URI among an execution's properties
// when logs are kept.
func (b *Backend) withLogURI(props map[string]*pb.Value, runRoot, name string) {
	if !b.DriverLogs {
		return
	}
	if uri := record.LogURI(runRoot, name); uri != "" {
		props[mlmd.PropDriverLogsURI] = mlmd.StringValue(uri)
	}
}

func written(exec *mlmd.Execution, created bool) *record.Written {
	w := &record.Written{Task: exec, Created: created, ExecutionID: exec.ID(), LogURI: exec.String(mlmd.PropDriverLogsURI)}
	if id := exec.String(mlmd.PropCachedExecutionID); id != "" {
		w.CachedFrom = "execution " + id
	}
	return w
}

func parseID(ref string) (int64, error) {
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an MLMD execution ID", ref)
	}
	return id, nil
}
