package mlmdserver_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestKFPTaskMapPaging pages through a DAG's children exactly as the KFP
// driver does: run context, parent_dag_id filter, default page size (20),
// until next_page_token is empty.
func TestKFPTaskMapPaging(t *testing.T) {
	r := newKFPRun(t)
	otherRun := r.getContext(r.newContext(r.runCtx.GetTypeId(), "other-run"))
	root := r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.dagType), Name: proto.String("run/run-uuid")}, r.runCtx.GetId())
	var want []int64
	for i := range 45 {
		want = append(want, r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.contType), CustomProperties: map[string]*mlmd.Value{
			"task_name": strV(fmt.Sprintf("task-%d", i)), "parent_dag_id": intV(root),
		}}, r.runCtx.GetId()))
		// Noise: other parents, and the same parent id in another run.
		r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.contType), CustomProperties: map[string]*mlmd.Value{"parent_dag_id": intV(root + 1000)}}, r.runCtx.GetId())
		if i < 5 {
			r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.contType), CustomProperties: map[string]*mlmd.Value{"parent_dag_id": intV(root)}}, otherRun.GetId())
		}
	}
	r.srv.ResetCalls()

	filter := fmt.Sprintf("custom_properties.parent_dag_id.int_value = %d", root)
	var got []int64
	token := ""
	for {
		resp := must[*mlmd.GetExecutionsByContextResponse](t)(r.c.GetExecutionsByContext(r.ctx, &mlmd.GetExecutionsByContextRequest{
			ContextId: r.runCtx.Id,
			Options:   &mlmd.ListOperationOptions{FilterQuery: &filter, NextPageToken: &token},
		}))
		if len(resp.GetExecutions()) > 20 {
			t.Fatalf("page of %d executions, want at most the default 20", len(resp.GetExecutions()))
		}
		got = append(got, idsOf(resp.GetExecutions())...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged children = %v\nwant %v", got, want)
	}
	if calls := r.srv.Calls()["GetExecutionsByContext"]; calls != 3 {
		t.Errorf("GetExecutionsByContext was called %d times, want 3 pages", calls)
	}
}

func TestPagingOrders(t *testing.T) {
	e := newEnv(t)
	typeID := e.executionType("system.ContainerExecution")
	var ids []int64
	for range 7 {
		ids = append(ids, e.putExecution(&mlmd.Execution{TypeId: proto.Int64(typeID)}))
	}
	// Update some executions so that update-time order differs from id order.
	for _, id := range []int64{ids[4], ids[1], ids[6]} {
		ex := e.getExecution(id)
		ex.LastKnownState = mlmd.Execution_COMPLETE.Enum()
		must[*mlmd.PutExecutionsResponse](t)(e.c.PutExecutions(e.ctx, &mlmd.PutExecutionsRequest{Executions: []*mlmd.Execution{ex}}))
	}
	all := must[*mlmd.GetExecutionsResponse](t)(e.c.GetExecutions(e.ctx, &mlmd.GetExecutionsRequest{})).GetExecutions()
	key := map[mlmd.ListOperationOptions_OrderByField_Field]func(*mlmd.Execution) int64{
		mlmd.ListOperationOptions_OrderByField_ID:               (*mlmd.Execution).GetId,
		mlmd.ListOperationOptions_OrderByField_CREATE_TIME:      (*mlmd.Execution).GetCreateTimeSinceEpoch,
		mlmd.ListOperationOptions_OrderByField_LAST_UPDATE_TIME: (*mlmd.Execution).GetLastUpdateTimeSinceEpoch,
	}
	for field, k := range key {
		for _, asc := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v asc=%v", field, asc), func(t *testing.T) {
				want := slices.Clone(all)
				slices.SortFunc(want, func(a, b *mlmd.Execution) int {
					c := cmp.Or(cmp.Compare(k(a), k(b)), cmp.Compare(a.GetId(), b.GetId()))
					if !asc {
						return -c
					}
					return c
				})
				got := pageAll(t, e, &mlmd.ListOperationOptions{
					MaxResultSize: proto.Int32(3),
					OrderByField:  &mlmd.ListOperationOptions_OrderByField{Field: field.Enum(), IsAsc: proto.Bool(asc)},
				})
				if !slices.Equal(got, idsOf(want)) {
					t.Errorf("pages = %v, want %v", got, idsOf(want))
				}
			})
		}
	}
}

// pageAll lists all executions page by page with opts.
func pageAll(t *testing.T, e *env, opts *mlmd.ListOperationOptions) []int64 {
	t.Helper()
	var got []int64
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging does not terminate")
		}
		resp := must[*mlmd.GetExecutionsResponse](t)(e.c.GetExecutions(e.ctx, &mlmd.GetExecutionsRequest{Options: opts}))
		if len(resp.GetExecutions()) > int(opts.GetMaxResultSize()) {
			t.Fatalf("page of %d, max_result_size %d", len(resp.GetExecutions()), opts.GetMaxResultSize())
		}
		got = append(got, idsOf(resp.GetExecutions())...)
		if resp.GetNextPageToken() == "" {
			return got
		}
		opts = proto.Clone(opts).(*mlmd.ListOperationOptions)
		opts.NextPageToken = resp.NextPageToken
	}
}

func TestListOptionsErrorsAndLimits(t *testing.T) {
	e := newEnv(t)
	typeID := e.executionType("system.ContainerExecution")
	for range 105 {
		e.putExecution(&mlmd.Execution{TypeId: proto.Int64(typeID)})
	}
	first := must[*mlmd.GetExecutionsResponse](t)(e.c.GetExecutions(e.ctx, &mlmd.GetExecutionsRequest{
		Options: &mlmd.ListOperationOptions{MaxResultSize: proto.Int32(500)},
	}))
	if len(first.GetExecutions()) != 100 || first.GetNextPageToken() == "" {
		t.Fatalf("max_result_size 500 gave %d executions (token %q), want a page of 100 and a token", len(first.GetExecutions()), first.GetNextPageToken())
	}
	desc := &mlmd.ListOperationOptions_OrderByField{Field: mlmd.ListOperationOptions_OrderByField_ID.Enum(), IsAsc: proto.Bool(false)}
	tests := []struct {
		name string
		opts *mlmd.ListOperationOptions
	}{
		{"zero max_result_size", &mlmd.ListOperationOptions{MaxResultSize: proto.Int32(0)}},
		{"negative max_result_size", &mlmd.ListOperationOptions{MaxResultSize: proto.Int32(-1)}},
		{"FIELD_UNSPECIFIED", &mlmd.ListOperationOptions{OrderByField: &mlmd.ListOperationOptions_OrderByField{Field: mlmd.ListOperationOptions_OrderByField_FIELD_UNSPECIFIED.Enum()}}},
		{"garbage token", &mlmd.ListOperationOptions{NextPageToken: proto.String("%%%not-a-token")}},
		{"token reused with another ordering", &mlmd.ListOperationOptions{NextPageToken: first.NextPageToken, OrderByField: desc}},
		{"unsupported filter", &mlmd.ListOperationOptions{FilterQuery: proto.String("id = 1 OR id = 2")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.GetExecutions(e.ctx, &mlmd.GetExecutionsRequest{Options: tc.opts})
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

// filterFixture is a small run with every kind of value the filters read.
type filterFixture struct {
	*kfpRun
	root, train, eval, loop, otherTrain, bare int64
	otherRun                                  int64
}

func newFilterFixture(t *testing.T) *filterFixture {
	r := newKFPRun(t)
	f := &filterFixture{kfpRun: r}
	f.otherRun = r.newContext(r.runCtx.GetTypeId(), "other-run")
	must[*mlmd.PutParentContextsResponse](t)(r.c.PutParentContexts(r.ctx, &mlmd.PutParentContextsRequest{ParentContexts: []*mlmd.ParentContext{
		{ChildId: r.runCtx.Id, ParentId: r.pipeCtx.Id},
	}}))
	exec := func(typeID int64, state mlmd.Execution_State, props map[string]*mlmd.Value, ctxs ...int64) int64 {
		return r.putExecution(&mlmd.Execution{TypeId: proto.Int64(typeID), LastKnownState: state.Enum(), CustomProperties: props}, ctxs...)
	}
	pipe, run := r.pipeCtx.GetId(), r.runCtx.GetId()
	f.root = r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.dagType), Name: proto.String("run/run-uuid"), LastKnownState: mlmd.Execution_RUNNING.Enum(),
		CustomProperties: map[string]*mlmd.Value{"task_name": strV("")}}, pipe, run)
	f.train = exec(r.contType, mlmd.Execution_COMPLETE, map[string]*mlmd.Value{"task_name": strV("train"), "parent_dag_id": intV(f.root)}, pipe, run)
	f.eval = exec(r.contType, mlmd.Execution_FAILED, map[string]*mlmd.Value{"task_name": strV("eval"), "parent_dag_id": intV(f.root)}, pipe, run)
	f.loop = exec(r.dagType, mlmd.Execution_RUNNING, map[string]*mlmd.Value{"task_name": strV("loop"), "parent_dag_id": intV(f.root), "iteration_count": intV(3)}, pipe, run)
	f.otherTrain = exec(r.contType, mlmd.Execution_CACHED, map[string]*mlmd.Value{"task_name": strV("train"), "parent_dag_id": intV(99)}, f.otherRun)
	f.bare = r.putExecution(&mlmd.Execution{TypeId: proto.Int64(r.contType)})
	return f
}

func listIDs(t *testing.T, e *env, k string, query string) ([]int64, error) {
	t.Helper()
	opts := &mlmd.ListOperationOptions{FilterQuery: &query, MaxResultSize: proto.Int32(100)}
	switch k {
	case "contexts":
		r, err := e.c.GetContexts(e.ctx, &mlmd.GetContextsRequest{Options: opts})
		return idsOf(r.GetContexts()), err
	case "artifacts":
		r, err := e.c.GetArtifacts(e.ctx, &mlmd.GetArtifactsRequest{Options: opts})
		return idsOf(r.GetArtifacts()), err
	default:
		r, err := e.c.GetExecutions(e.ctx, &mlmd.GetExecutionsRequest{Options: opts})
		return idsOf(r.GetExecutions()), err
	}
}

func TestFilterSubset(t *testing.T) {
	f := newFilterFixture(t)
	run, pipe := f.runCtx.GetId(), f.pipeCtx.GetId()
	tests := []struct {
		query string
		kind  string // listed node kind; executions when empty
		want  []int64
	}{
		{query: fmt.Sprintf("custom_properties.parent_dag_id.int_value = %d", f.root), want: []int64{f.train, f.eval, f.loop}},
		{query: "custom_properties.task_name.string_value = 'train'", want: []int64{f.train, f.otherTrain}},
		{query: fmt.Sprintf(`custom_properties.task_name.string_value = "train" AND custom_properties.parent_dag_id.int_value = %d`, f.root), want: []int64{f.train}},
		{query: fmt.Sprintf("contexts_run.id = %d AND custom_properties.parent_dag_id.int_value = %d", run, f.root), want: []int64{f.train, f.eval, f.loop}},
		{query: `name = "run/run-uuid"`, want: []int64{f.root}},
		{query: "name != 'run/run-uuid'", want: []int64{}}, // unnamed executions are NULL
		{query: "custom_properties.task_name.string_value != 'train'", want: []int64{f.root, f.eval, f.loop}},
		{query: "custom_properties.parent_dag_id.string_value = '1'", want: []int64{}}, // stored as int
		{query: "custom_properties.iteration_count.int_value = 3.0", want: []int64{f.loop}},
		{query: "custom_properties.`task_name`.string_value = 'eval'", want: []int64{f.eval}},
		{query: "last_known_state IN (COMPLETE, CACHED)", want: []int64{f.train, f.otherTrain}},
		{query: "last_known_state NOT IN (RUNNING)", want: []int64{f.train, f.eval, f.otherTrain}},
		{query: "last_known_state = RUNNING", want: []int64{f.root, f.loop}},
		{query: "type = 'system.DAGExecution'", want: []int64{f.root, f.loop}},
		{query: fmt.Sprintf("type_id = %d", f.contType), want: []int64{f.train, f.eval, f.otherTrain, f.bare}},
		{query: "contexts_r.name = 'run-uuid'", want: []int64{f.root, f.train, f.eval, f.loop}},
		{query: "contexts_a.type = 'system.Pipeline' AND contexts_a.name = 'my-pipeline'", want: []int64{f.root, f.train, f.eval, f.loop}},
		{query: "contexts_a.type = 'system.Pipeline' AND contexts_a.name = 'run-uuid'", want: []int64{}}, // one alias, one context
		{query: "contexts_a.type = 'system.Pipeline' AND contexts_b.name = 'other-run'", want: []int64{}},
		{query: fmt.Sprintf("(id IN (%d, %d, %d)) and custom_properties.task_name.string_value = 'train'", f.train, f.eval, f.otherTrain), want: []int64{f.train, f.otherTrain}},
		{query: "", want: []int64{f.root, f.train, f.eval, f.loop, f.otherTrain, f.bare}},
		{kind: "contexts", query: "parent_contexts_p.name = 'my-pipeline'", want: []int64{run}},
		{kind: "contexts", query: "child_contexts_c.type = 'system.PipelineRun'", want: []int64{pipe}},
		{kind: "contexts", query: "name IN ('run-uuid', 'other-run') AND type = 'system.PipelineRun'", want: []int64{run, f.otherRun}},
		{kind: "artifacts", query: "uri = 'minio://bucket/in' AND type = 'system.Dataset'", want: []int64{f.input}},
		{kind: "artifacts", query: "state = LIVE", want: []int64{}}, // state unset
	}
	for _, tc := range tests {
		t.Run(tc.kind+" "+tc.query, func(t *testing.T) {
			got, err := listIDs(t, f.env, tc.kind, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFilterOutsideSubsetIsInvalidArgument(t *testing.T) {
	f := newFilterFixture(t)
	tests := []struct{ kind, query string }{
		{"", "id = 1 OR id = 2"},
		{"", "name LIKE 'run%'"},
		{"", "name IS NULL"},
		{"", "id > 3"},
		{"", "NOT (id = 1)"},
		{"", "custom_properties.x = 1"},
		{"", "custom_properties.x.struct_value = 1"},
		{"", "parent_contexts_a.id = 1"},
		{"", "events_e.type = INPUT"},
		{"", "uri = 'x'"},
		{"", "name = run"},
		{"", "id = 'x'"},
		{"", "last_known_state = DONE"},
		{"", "name = 'unterminated"},
		{"", "id = 1 AND"},
		{"", "(id = 1"},
		{"", "id IN ()"},
		{"contexts", "contexts_a.id = 1"},
		{"contexts", "artifacts_a.id = 1"},
		{"artifacts", "last_known_state = RUNNING"},
	}
	for _, tc := range tests {
		t.Run(tc.kind+" "+tc.query, func(t *testing.T) {
			_, err := listIDs(t, f.env, tc.kind, tc.query)
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

// TestListByTypeAndExternalIDs covers the *ByType lists, whose page token
// MLMD sets (possibly empty) whenever options are given, and the
// *ByExternalIds reads.
func TestListByTypeAndExternalIDs(t *testing.T) {
	e := newEnv(t)
	runType := e.contextType("system.PipelineRun")
	dagType := e.executionType("system.DAGExecution")
	var runs []int64
	for i := range 3 {
		runs = append(runs, e.newContext(runType, fmt.Sprintf("run-%d", i)))
	}
	exec := e.putExecution(&mlmd.Execution{TypeId: proto.Int64(dagType), ExternalId: proto.String("argo-node-1")})

	page := must[*mlmd.GetContextsByTypeResponse](t)(e.c.GetContextsByType(e.ctx, &mlmd.GetContextsByTypeRequest{
		TypeName: proto.String("system.PipelineRun"), Options: &mlmd.ListOperationOptions{MaxResultSize: proto.Int32(2)},
	}))
	if !slices.Equal(idsOf(page.GetContexts()), runs[:2]) || page.GetNextPageToken() == "" {
		t.Fatalf("first page = %v token %q, want %v and a token", idsOf(page.GetContexts()), page.GetNextPageToken(), runs[:2])
	}
	last := must[*mlmd.GetContextsByTypeResponse](t)(e.c.GetContextsByType(e.ctx, &mlmd.GetContextsByTypeRequest{
		TypeName: proto.String("system.PipelineRun"), Options: &mlmd.ListOperationOptions{MaxResultSize: proto.Int32(2), NextPageToken: page.NextPageToken},
	}))
	if !slices.Equal(idsOf(last.GetContexts()), runs[2:]) || last.NextPageToken == nil || last.GetNextPageToken() != "" {
		t.Fatalf("last page = %v token %v, want %v and an empty (set) token", idsOf(last.GetContexts()), last.NextPageToken, runs[2:])
	}
	byType := must[*mlmd.GetExecutionsByTypeResponse](t)(e.c.GetExecutionsByType(e.ctx, &mlmd.GetExecutionsByTypeRequest{TypeName: proto.String("system.DAGExecution")}))
	if !slices.Equal(idsOf(byType.GetExecutions()), []int64{exec}) || byType.NextPageToken != nil {
		t.Errorf("GetExecutionsByType = %v (token %v), want [%d] and no token", idsOf(byType.GetExecutions()), byType.NextPageToken, exec)
	}
	byExt := must[*mlmd.GetExecutionsByExternalIdsResponse](t)(e.c.GetExecutionsByExternalIds(e.ctx, &mlmd.GetExecutionsByExternalIdsRequest{ExternalIds: []string{"argo-node-1"}}))
	if !slices.Equal(idsOf(byExt.GetExecutions()), []int64{exec}) {
		t.Errorf("GetExecutionsByExternalIds = %v, want [%d]", idsOf(byExt.GetExecutions()), exec)
	}
	_, err := e.c.GetContextsByExternalIds(e.ctx, &mlmd.GetContextsByExternalIdsRequest{ExternalIds: []string{"nope"}})
	wantCode(t, err, codes.NotFound)
}
