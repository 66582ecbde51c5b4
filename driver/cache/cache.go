package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// Tasks is the part of the ml-pipeline API the cache needs;
// *mlpipeline.Client implements it.
type Tasks interface {
	ListTasks(ctx context.Context, req *apipb.ListTasksRequest) (*apipb.ListTasksResponse, error)
	CreateTask(ctx context.Context, task *apipb.Task) (*apipb.Task, error)
}

var _ Tasks = (*mlpipeline.Client)(nil)

// Cache looks up and records cache entries in KFP's task table. It is safe
// for concurrent use if its Tasks is.
type Cache struct {
	tasks Tasks
}

// New returns a Cache over tasks.
func New(tasks Tasks) *Cache { return &Cache{tasks: tasks} }

// pipelineKey is how KFP names a pipeline in the task table. KFP always
// writes the shared form, never "namespace/<ns>/pipeline/<name>".
func pipelineKey(pipelineName string) string { return "pipeline/" + pipelineName }

// Lookup finds the newest entry for fingerprint in the namespace and
// pipeline (the bare --pipeline_name) and returns its MLMD execution ID.
// Errors that may pass on retry are driver.Transient.
func (c *Cache) Lookup(ctx context.Context, namespace, pipelineName, fingerprint string) (cachedExecutionID string, hit bool, err error) {
	if fingerprint == "" {
		return "", false, errors.New("cache lookup: empty fingerprint")
	}
	req, err := lookupRequest(namespace, pipelineName, fingerprint)
	if err != nil {
		return "", false, err
	}
	resp, err := c.tasks.ListTasks(ctx, req)
	if err != nil {
		return "", false, classify("cache lookup", err)
	}
	// Like KFP, only the first task counts; an entry without an ID is a miss.
	id := ""
	if len(resp.GetTasks()) > 0 {
		id = resp.GetTasks()[0].GetMlmdExecutionID()
	}
	return id, id != "", nil
}

// lookupRequest is KFP's query: three EQUALS predicates in KFP's order,
// newest first, one result.
func lookupRequest(namespace, pipelineName, fingerprint string) (*apipb.ListTasksRequest, error) {
	filter, err := mlpipeline.EncodeFilter(&apipb.Filter{Predicates: []*apipb.Predicate{
		equals("fingerprint", fingerprint),
		equals("pipelineName", pipelineKey(pipelineName)),
		equals("namespace", namespace),
	}})
	if err != nil {
		return nil, fmt.Errorf("cache lookup: %w", err)
	}
	return &apipb.ListTasksRequest{Filter: filter, SortBy: "created_at desc", PageSize: 1}, nil
}

func equals(key, value string) *apipb.Predicate {
	return &apipb.Predicate{
		Op:    apipb.Predicate_EQUALS,
		Key:   key,
		Value: &apipb.Predicate_StringValue{StringValue: value},
	}
}

// Entry is a successful execution to record under its fingerprint.
type Entry struct {
	Namespace    string
	PipelineName string // the bare --pipeline_name
	RunID        string
	ExecutionID  int64 // MLMD ID of the execution whose outputs a hit reuses
	Fingerprint  string
	StartedAt    time.Time // becomes created_at
	FinishedAt   time.Time
}

// Record writes e as KFP's launcher does after a successful run. Errors
// that may pass on retry are driver.Transient.
func (c *Cache) Record(ctx context.Context, e Entry) error {
	task, err := e.task()
	if err != nil {
		return err
	}
	if _, err := c.tasks.CreateTask(ctx, task); err != nil {
		return classify("recording cache entry", err)
	}
	return nil
}

// task renders e as KFP's launcher does, timestamps in whole seconds.
func (e Entry) task() (*apipb.Task, error) {
	if e.Fingerprint == "" || e.ExecutionID == 0 {
		return nil, fmt.Errorf("recording cache entry: fingerprint %q and execution ID %d must both be set", e.Fingerprint, e.ExecutionID)
	}
	return &apipb.Task{
		PipelineName:    pipelineKey(e.PipelineName),
		Namespace:       e.Namespace,
		RunId:           e.RunID,
		MlmdExecutionID: strconv.FormatInt(e.ExecutionID, 10),
		CreatedAt:       &timestamppb.Timestamp{Seconds: e.StartedAt.Unix()},
		FinishedAt:      &timestamppb.Timestamp{Seconds: e.FinishedAt.Unix()},
		Fingerprint:     e.Fingerprint,
	}, nil
}
