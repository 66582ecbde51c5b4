package kfpapitest_test

import (
	"net/url"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// The launcher pages through a parent's children (output republishing).
func TestListTasksPaging(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.root(t, runID)
	var want []string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		want = append(want, c.create(t, runID, child(root, n)).GetTaskId())
	}
	var got []string
	req := &pb.ListTasksRequest{RunId: runID, ParentFilter: &pb.ListTasksRequest_ParentId{ParentId: root.GetTaskId()}, PageSize: 2}
	for pages := 0; ; pages++ {
		resp, err := c.run.ListTasks(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if int(resp.GetTotalSize()) != len(want) || pages > 3 {
			t.Fatalf("total_size %d after %d pages", resp.GetTotalSize(), pages)
		}
		for _, tk := range resp.GetTasks() {
			got = append(got, tk.GetTaskId())
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
		if pages == 0 {
			// A task created between pages is listed once, at its place.
			want = append(want, c.create(t, runID, child(root, "f")).GetTaskId())
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("listed %v, want %v", got, want)
		}
	}
	all, err := c.run.ListTasks(ctx, &pb.ListTasksRequest{RunId: runID, OrderBy: "create_time desc"})
	if err != nil || all.GetTotalSize() != 7 || all.GetTasks()[0].GetName() != "f" {
		t.Errorf("whole run, newest first: %v, %v", all, err)
	}
	other, err := c.run.ListTasks(ctx, &pb.ListTasksRequest{RunId: "unknown"})
	if err != nil || len(other.GetTasks()) != 0 {
		t.Errorf("unknown run: %v, %v; KFP answers an empty list", other, err)
	}

	bad := map[string]*pb.ListTasksRequest{
		"no run id":        {ParentFilter: &pb.ListTasksRequest_ParentId{ParentId: root.GetTaskId()}},
		"unfiltered key":   {RunId: runID, Filter: url.QueryEscape(`{"predicates":[{"key":"display_name","operation":"EQUALS","string_value":"x"}]}`)},
		"malformed filter": {RunId: runID, Filter: "%7B"},
		"IN without list":  {RunId: runID, Filter: url.QueryEscape(`{"predicates":[{"key":"name","operation":"IN","string_value":"x"}]}`)},
		"order by name":    {RunId: runID, OrderBy: "name"},
		"negative size":    {RunId: runID, PageSize: -1},
		"foreign token":    {RunId: runID, PageToken: "garbage"},
		"token of a query": {RunId: runID, PageToken: firstToken(t, c, runID, root.GetTaskId())},
		"parent elsewhere": {RunId: c.seedRun(t, "ns"), ParentFilter: &pb.ListTasksRequest_ParentId{ParentId: root.GetTaskId()}},
	}
	for name, req := range bad {
		_, err := c.run.ListTasks(ctx, req)
		wantCode(t, name, err, codes.InvalidArgument)
	}
}

// firstToken is a page token of the children listing, which the whole-run
// listing must refuse.
func firstToken(t *testing.T, c *client, runID, parent string) string {
	resp, err := c.run.ListTasks(ctx, &pb.ListTasksRequest{RunId: runID, ParentFilter: &pb.ListTasksRequest_ParentId{ParentId: parent}, PageSize: 1})
	if err != nil || resp.GetNextPageToken() == "" {
		t.Fatalf("no token: %v", err)
	}
	return resp.GetNextPageToken()
}

func TestFindCachedTask(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runA, runB := c.seedRun(t, "team-a"), c.seedRun(t, "team-b")
	rootA, rootB := c.root(t, runA), c.root(t, runB)
	at := func(runID string, parent *pb.PipelineTask, name string, secs int64, state pb.PipelineTask_TaskState) *pb.PipelineTask {
		tk := child(parent, name)
		tk.CacheFingerprint, tk.State, tk.CreateTime = "fp", state, timestamppb.New(time.Unix(secs, 0))
		return c.create(t, runID, tk)
	}
	at(runA, rootA, "old", 100, pb.PipelineTask_SUCCEEDED)
	latest := at(runA, rootA, "latest", 200, pb.PipelineTask_SUCCEEDED)
	at(runA, rootA, "cached", 300, pb.PipelineTask_CACHED)
	at(runA, rootA, "failed", 400, pb.PipelineTask_FAILED)
	at(runA, rootA, "running", 500, pb.PipelineTask_RUNNING)
	at(runB, rootB, "elsewhere", 600, pb.PipelineTask_SUCCEEDED)

	find := func(ns, fp string) *pb.PipelineTask {
		t.Helper()
		resp, err := c.run.FindCachedTask(ctx, &pb.FindCachedTaskRequest{Namespace: ns, CacheFingerprint: fp})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetTask()
	}
	if got := find("team-a", "fp"); got.GetTaskId() != latest.GetTaskId() {
		t.Errorf("hit = %s (%s), want the newest SUCCEEDED task of the namespace", got.GetName(), got.GetTaskId())
	}
	if got := find("team-a", "other"); got != nil {
		t.Errorf("unknown fingerprint hit %v", got)
	}
	if got := find("team-c", "fp"); got != nil {
		t.Errorf("another namespace hit %v", got)
	}

	_, err := c.run.FindCachedTask(ctx, &pb.FindCachedTaskRequest{Namespace: "team-a"})
	wantCode(t, "no fingerprint", err, codes.InvalidArgument)
	_, err = c.run.FindCachedTask(ctx, &pb.FindCachedTaskRequest{CacheFingerprint: "fp"})
	wantCode(t, "no namespace in multi-user mode", err, codes.InvalidArgument)
	bound := metadata.AppendToOutgoingContext(ctx, kfpapitest.BoundRunIDMetadataKey, runB)
	_, err = c.run.FindCachedTask(bound, &pb.FindCachedTaskRequest{Namespace: "team-a", CacheFingerprint: "fp"})
	wantCode(t, "run bound in another namespace", err, codes.PermissionDenied)

	single := dial(t, kfpapitest.Options{SingleUser: true})
	r := single.seedRun(t, "")
	tk := child(single.root(t, r), "x")
	tk.CacheFingerprint, tk.State = "fp", pb.PipelineTask_SUCCEEDED
	single.create(t, r, tk)
	if resp, err := single.run.FindCachedTask(ctx, &pb.FindCachedTaskRequest{CacheFingerprint: "fp"}); err != nil || resp.GetTask() == nil {
		t.Errorf("single-user lookup without namespace: %v, %v", resp, err)
	}
}

// TestListTasksFilter: the name and parent filters KFP's driver sends
// select tasks as KFP's SQL does (predicates ANDed, IN and EQUALS).
func TestListTasksFilter(t *testing.T) {
	c := dial(t, kfpapitest.Options{})
	runID := c.seedRun(t, "ns")
	root := c.create(t, runID, &pb.PipelineTask{RunId: runID, Name: "ROOT", Type: pb.PipelineTask_ROOT, ScopePath: "root"})
	var loops []string
	for _, n := range []string{"a", "b"} {
		l := c.create(t, runID, &pb.PipelineTask{RunId: runID, Name: "loop-" + n, Type: pb.PipelineTask_LOOP, ScopePath: "root.loop-" + n, ParentTaskId: &root.TaskId})
		loops = append(loops, l.GetTaskId())
		for _, k := range []string{"x", "y"} {
			c.create(t, runID, &pb.PipelineTask{RunId: runID, Name: k, Type: pb.PipelineTask_RUNTIME, ScopePath: "root.loop-" + n + "." + k, ParentTaskId: &l.TaskId})
		}
	}
	filter := func(js string) string { return url.QueryEscape(js) }
	for name, c2 := range map[string]struct {
		req  *pb.ListTasksRequest
		want int
	}{
		"names of one parent": {&pb.ListTasksRequest{RunId: runID, ParentFilter: &pb.ListTasksRequest_ParentId{ParentId: loops[0]},
			Filter: filter(`{"predicates":[{"key":"name","operation":"IN","string_values":{"values":["x"]}}]}`)}, 1},
		"two parents": {&pb.ListTasksRequest{RunId: runID,
			Filter: filter(`{"predicates":[{"key":"parent_task_id","operation":"IN","string_values":{"values":["` + loops[0] + `","` + loops[1] + `"]}}]}`)}, 4},
		"two parents, one name": {&pb.ListTasksRequest{RunId: runID,
			Filter: filter(`{"predicates":[{"key":"parent_task_id","operation":"IN","string_values":{"values":["` + loops[0] + `","` + loops[1] + `"]}},{"key":"name","operation":"EQUALS","string_value":"y"}]}`)}, 2},
		"no match": {&pb.ListTasksRequest{RunId: runID,
			Filter: filter(`{"predicates":[{"key":"name","operation":"EQUALS","string_value":"z"}]}`)}, 0},
	} {
		resp, err := c.run.ListTasks(ctx, c2.req)
		if err != nil || len(resp.GetTasks()) != c2.want || int(resp.GetTotalSize()) != c2.want {
			t.Errorf("%s: %d tasks (total %d), err %v; want %d", name, len(resp.GetTasks()), resp.GetTotalSize(), err, c2.want)
		}
	}
}
