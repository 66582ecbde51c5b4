package mlpipelinetest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// dial talks to the server with the bare generated client, so these tests
// exercise the wire shape and not our client wrapper.
func dial(t *testing.T) (apipb.TaskServiceClient, *mlpipelinetest.Server) {
	t.Helper()
	srv := mlpipelinetest.StartTest(t)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return apipb.NewTaskServiceClient(conn), srv
}

func task(ns, pipeline, fp, execID string, created int64) *apipb.Task {
	return &apipb.Task{
		Namespace: ns, PipelineName: pipeline, RunId: "run", MlmdExecutionID: execID,
		Fingerprint: fp, CreatedAt: &timestamppb.Timestamp{Seconds: created, Nanos: 5},
	}
}

func create(t *testing.T, c apipb.TaskServiceClient, tasks ...*apipb.Task) {
	t.Helper()
	for _, tk := range tasks {
		if _, err := c.CreateTaskV1(context.Background(), &apipb.CreateTaskRequest{Task: tk}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCreateTaskValidation(t *testing.T) {
	c, srv := dial(t)
	edit := func(f func(*apipb.Task)) *apipb.Task {
		tk := task("ns", "pipeline/p", "fp", "1", 10)
		f(tk)
		return tk
	}
	bad := map[string]*apipb.Task{
		"nil task":            nil,
		"id set":              edit(func(t *apipb.Task) { t.Id = "x" }),
		"no pipeline name":    edit(func(t *apipb.Task) { t.PipelineName = "" }),
		"no run id":           edit(func(t *apipb.Task) { t.RunId = "" }),
		"no execution id":     edit(func(t *apipb.Task) { t.MlmdExecutionID = "" }),
		"no fingerprint":      edit(func(t *apipb.Task) { t.Fingerprint = "" }),
		"no created_at":       edit(func(t *apipb.Task) { t.CreatedAt = nil }),
		"short namespaced":    edit(func(t *apipb.Task) { t.PipelineName = "namespace/ns" }),
		"namespace conflicts": edit(func(t *apipb.Task) { t.PipelineName = "namespace/other/pipeline/p" }),
	}
	for name, tk := range bad {
		_, err := c.CreateTaskV1(context.Background(), &apipb.CreateTaskRequest{Task: tk})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
	create(t, c, edit(func(t *apipb.Task) { t.PipelineName = "namespace/ns/pipeline/p" }))
	if n := len(srv.Tasks()); n != 1 {
		t.Errorf("%d tasks stored, want 1", n)
	}
}

func TestCreateTaskStoresSeconds(t *testing.T) {
	c, srv := dial(t)
	created, err := c.CreateTaskV1(context.Background(), &apipb.CreateTaskRequest{Task: task("ns", "pipeline/p", "fp", "1", 10)})
	if err != nil {
		t.Fatal(err)
	}
	stored := srv.Tasks()[0]
	if created.GetId() == "" || stored.GetId() != created.GetId() || stored.GetCreatedAt().GetNanos() != 0 {
		t.Errorf("created %v, stored %v", created, stored)
	}
}

func filter(t *testing.T, preds ...*apipb.Predicate) string {
	t.Helper()
	s, err := mlpipeline.EncodeFilter(&apipb.Filter{Predicates: preds})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eq(key, value string) *apipb.Predicate {
	return &apipb.Predicate{Op: apipb.Predicate_EQUALS, Key: key, Value: &apipb.Predicate_StringValue{StringValue: value}}
}

func ids(resp *apipb.ListTasksResponse) []string {
	var out []string
	for _, tk := range resp.GetTasks() {
		out = append(out, tk.GetMlmdExecutionID())
	}
	return out
}

func TestListTasksFilterSortAndPage(t *testing.T) {
	c, _ := dial(t)
	create(t, c,
		task("ns", "pipeline/p", "fp", "1", 10),
		task("ns", "pipeline/p", "fp", "2", 30),
		task("ns", "pipeline/p", "fp", "3", 10),
		task("other", "pipeline/p", "fp", "4", 40),
		task("ns", "pipeline/q", "fp", "5", 40),
		task("ns", "pipeline/p", "fp2", "6", 40),
	)
	kfp := filter(t, eq("fingerprint", "fp"), eq("pipelineName", "pipeline/p"), eq("namespace", "ns"))
	tests := []struct {
		name string
		req  *apipb.ListTasksRequest
		want []string
	}{
		{"kfp lookup", &apipb.ListTasksRequest{Filter: kfp, SortBy: "created_at desc", PageSize: 1}, []string{"2"}},
		{"desc, ties newest first", &apipb.ListTasksRequest{Filter: kfp, SortBy: "created_at desc"}, []string{"2", "3", "1"}},
		{"asc default", &apipb.ListTasksRequest{Filter: kfp}, []string{"1", "3", "2"}},
		{"v2beta1 key alias", &apipb.ListTasksRequest{Filter: filter(t, eq("pipeline_name", "pipeline/q"))}, []string{"5"}},
		{"no filter", &apipb.ListTasksRequest{SortBy: "created_at asc", PageSize: 2}, []string{"1", "3"}},
		{"contradiction", &apipb.ListTasksRequest{Filter: filter(t, eq("namespace", "ns"), eq("namespace", "other"))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.ListTasksV1(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(resp); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
		})
	}
}

// KFP's own driver sends the filter as raw protojson; it must work as is.
func TestListTasksAcceptsKFPFilter(t *testing.T) {
	c, _ := dial(t)
	create(t, c, task("ns", "pipeline/p", "fp", "9", 10))
	raw := `{"predicates":[{"op":"EQUALS","key":"fingerprint","stringValue":"fp"},{"op":"EQUALS","key":"pipelineName","stringValue":"pipeline/p"},{"op":"EQUALS","key":"namespace","stringValue":"ns"}]}`
	resp, err := c.ListTasksV1(context.Background(), &apipb.ListTasksRequest{Filter: raw, SortBy: "created_at desc", PageSize: 1})
	if err != nil || !slices.Equal(ids(resp), []string{"9"}) || resp.GetTotalSize() != 1 {
		t.Errorf("resp = %v, err = %v", resp, err)
	}
}

func TestListTasksRejectsUnsupported(t *testing.T) {
	c, _ := dial(t)
	notEquals := eq("fingerprint", "fp")
	notEquals.Op = apipb.Predicate_NOT_EQUALS
	intValue := &apipb.Predicate{Op: apipb.Predicate_EQUALS, Key: "fingerprint", Value: &apipb.Predicate_IntValue{IntValue: 1}}
	bad := map[string]*apipb.ListTasksRequest{
		"op":             {Filter: filter(t, notEquals)},
		"value type":     {Filter: filter(t, intValue)},
		"key":            {Filter: filter(t, eq("runId", "r"))},
		"malformed":      {Filter: `{"predicates":`},
		"sort field":     {SortBy: "finished_at desc"},
		"page token":     {PageToken: "abc"},
		"negative size":  {PageSize: -1},
		"resource key":   {ResourceReferenceKey: &apipb.ResourceKey{Type: apipb.ResourceType_PIPELINE, Id: "x"}},
		"unknown fields": {Filter: `{"predicate":[]}`},
	}
	for name, req := range bad {
		_, err := c.ListTasksV1(context.Background(), req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
}

func TestCallsAndFaults(t *testing.T) {
	c, srv := dial(t)
	ctx := context.Background()
	srv.FailWith(status.Error(codes.Unavailable, "down"))
	if _, err := c.ListTasksV1(ctx, &apipb.ListTasksRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("err = %v, want Unavailable", err)
	}
	srv.FailWith(nil)
	if _, err := c.ListTasksV1(ctx, &apipb.ListTasksRequest{}); err != nil {
		t.Fatal(err)
	}
	create(t, c, task("ns", "pipeline/p", "fp", "1", 1))
	if srv.Calls(mlpipelinetest.MethodListTasks) != 2 || srv.Calls(mlpipelinetest.MethodCreateTask) != 1 {
		t.Errorf("calls: list %d, create %d", srv.Calls(mlpipelinetest.MethodListTasks), srv.Calls(mlpipelinetest.MethodCreateTask))
	}
}

func TestDelayHonoursDeadline(t *testing.T) {
	c, srv := dial(t)
	srv.SetDelay(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.ListTasksV1(ctx, &apipb.ListTasksRequest{})
	if status.Code(err) != codes.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}
