package mlmdserver_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestPutContextsContract(t *testing.T) {
	e := newEnv(t)
	runType := e.contextType("system.PipelineRun")
	existing := e.newContext(runType, "run-1")
	tests := []struct {
		name string
		ctx  *mlmd.Context
		want codes.Code
	}{
		{"new name", &mlmd.Context{TypeId: proto.Int64(runType), Name: proto.String("run-2")}, codes.OK},
		{"duplicate (type, name)", &mlmd.Context{TypeId: proto.Int64(runType), Name: proto.String("run-1")}, codes.AlreadyExists},
		{"empty name", &mlmd.Context{TypeId: proto.Int64(runType)}, codes.InvalidArgument},
		{"no type_id", &mlmd.Context{Name: proto.String("x")}, codes.InvalidArgument},
		{"unknown type_id", &mlmd.Context{TypeId: proto.Int64(999), Name: proto.String("x")}, codes.NotFound},
		{"undeclared property", &mlmd.Context{TypeId: proto.Int64(runType), Name: proto.String("x"), Properties: map[string]*mlmd.Value{"p": strV("v")}}, codes.InvalidArgument},
		{"custom property without value", &mlmd.Context{TypeId: proto.Int64(runType), Name: proto.String("x"), CustomProperties: map[string]*mlmd.Value{"p": {}}}, codes.InvalidArgument},
		{"update of unknown id (MLMD: INVALID_ARGUMENT)", &mlmd.Context{Id: proto.Int64(999), TypeId: proto.Int64(runType), Name: proto.String("x")}, codes.InvalidArgument},
		{"update with another type_id", &mlmd.Context{Id: proto.Int64(existing), TypeId: proto.Int64(runType + 100), Name: proto.String("run-1")}, codes.InvalidArgument},
		{"name longer than the MySQL column", &mlmd.Context{TypeId: proto.Int64(runType), Name: proto.String(strings.Repeat("n", 256))}, codes.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{Contexts: []*mlmd.Context{tc.ctx}})
			wantCode(t, err, tc.want)
			if tc.want == codes.OK && len(resp.GetContextIds()) != 1 {
				t.Fatalf("got ids %v, want one", resp.GetContextIds())
			}
		})
	}
}

func TestPutContextsCreateThenUpdate(t *testing.T) {
	e := newEnv(t)
	runType := e.contextType("system.PipelineRun")
	id := must[*mlmd.PutContextsResponse](t)(e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{Contexts: []*mlmd.Context{{
		TypeId: proto.Int64(runType), Name: proto.String("run-1"),
		CustomProperties: map[string]*mlmd.Value{"namespace": strV("kubeflow"), "pipeline_root": strV("minio://a")},
	}}})).GetContextIds()[0]
	created := e.getContext(id)
	if created.GetType() != "system.PipelineRun" || created.GetCreateTimeSinceEpoch() == 0 ||
		created.GetLastUpdateTimeSinceEpoch() != created.GetCreateTimeSinceEpoch() {
		t.Fatalf("created context = %v, want type name and equal create/update times", created)
	}

	// Echoing the stored context back changes nothing, not even the time.
	must[*mlmd.PutContextsResponse](t)(e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{Contexts: []*mlmd.Context{created}}))
	if again := e.getContext(id); !proto.Equal(again, created) {
		t.Fatalf("no-op update changed the context: %v -> %v", created, again)
	}

	// An update replaces the properties as a whole.
	update := proto.Clone(created).(*mlmd.Context)
	update.CustomProperties = map[string]*mlmd.Value{"namespace": strV("team-a")}
	got := must[*mlmd.PutContextsResponse](t)(e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{Contexts: []*mlmd.Context{update}}))
	if got.GetContextIds()[0] != id {
		t.Fatalf("update returned id %d, want %d", got.GetContextIds()[0], id)
	}
	updated := e.getContext(id)
	if len(updated.GetCustomProperties()) != 1 || updated.GetCustomProperties()["namespace"].GetStringValue() != "team-a" {
		t.Errorf("custom properties after update = %v, want only namespace=team-a", updated.GetCustomProperties())
	}
	if updated.GetCreateTimeSinceEpoch() != created.GetCreateTimeSinceEpoch() ||
		updated.GetLastUpdateTimeSinceEpoch() <= created.GetLastUpdateTimeSinceEpoch() {
		t.Errorf("times after update: create %d->%d, update %d->%d; want create kept and update moved forward",
			created.GetCreateTimeSinceEpoch(), updated.GetCreateTimeSinceEpoch(),
			created.GetLastUpdateTimeSinceEpoch(), updated.GetLastUpdateTimeSinceEpoch())
	}
}

func TestPutContextsBatchIsAtomicAndIDsAreNotReused(t *testing.T) {
	e := newEnv(t)
	runType := e.contextType("system.PipelineRun")
	first := e.newContext(runType, "a")
	_, err := e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{Contexts: []*mlmd.Context{
		{TypeId: proto.Int64(runType), Name: proto.String("b")},
		{TypeId: proto.Int64(runType), Name: proto.String("a")}, // duplicate: the whole batch fails
	}})
	wantCode(t, err, codes.AlreadyExists)
	got := must[*mlmd.GetContextByTypeAndNameResponse](t)(e.c.GetContextByTypeAndName(e.ctx, &mlmd.GetContextByTypeAndNameRequest{
		TypeName: proto.String("system.PipelineRun"), ContextName: proto.String("b"),
	}))
	if got.Context != nil {
		t.Fatalf("context b survived the failed batch: %v", got.Context)
	}
	next := e.newContext(runType, "c")
	if next <= first+1 {
		t.Errorf("id %d after a rolled-back insert; ids must increase and never be reused (first %d)", next, first)
	}
}

func TestGetByTypeAndNameMissingIsEmpty(t *testing.T) {
	e := newEnv(t)
	runType := e.contextType("system.PipelineRun")
	e.executionType("system.DAGExecution")
	e.artifactType("system.Artifact")
	e.newContext(runType, "run-1")
	tests := []struct {
		name string
		call func() (proto.Message, error)
	}{
		{"context of missing type", func() (proto.Message, error) {
			r, err := e.c.GetContextByTypeAndName(e.ctx, &mlmd.GetContextByTypeAndNameRequest{TypeName: proto.String("nope"), ContextName: proto.String("run-1")})
			return r.GetContext(), err
		}},
		{"missing context", func() (proto.Message, error) {
			r, err := e.c.GetContextByTypeAndName(e.ctx, &mlmd.GetContextByTypeAndNameRequest{TypeName: proto.String("system.PipelineRun"), ContextName: proto.String("run-2")})
			return r.GetContext(), err
		}},
		{"missing execution", func() (proto.Message, error) {
			r, err := e.c.GetExecutionByTypeAndName(e.ctx, &mlmd.GetExecutionByTypeAndNameRequest{TypeName: proto.String("system.DAGExecution"), ExecutionName: proto.String("run/x")})
			return r.GetExecution(), err
		}},
		{"missing artifact", func() (proto.Message, error) {
			r, err := e.c.GetArtifactByTypeAndName(e.ctx, &mlmd.GetArtifactByTypeAndNameRequest{TypeName: proto.String("system.Artifact"), ArtifactName: proto.String("a")})
			return r.GetArtifact(), err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.call()
			if err != nil {
				t.Fatalf("got error %v, want an empty response", err)
			}
			if got.ProtoReflect().IsValid() {
				t.Fatalf("got %v, want nothing", got)
			}
		})
	}
	found := must[*mlmd.GetContextByTypeAndNameResponse](t)(e.c.GetContextByTypeAndName(e.ctx, &mlmd.GetContextByTypeAndNameRequest{
		TypeName: proto.String("system.PipelineRun"), ContextName: proto.String("run-1"),
	}))
	if found.GetContext().GetName() != "run-1" || found.GetContext().GetType() != "system.PipelineRun" {
		t.Errorf("GetContextByTypeAndName = %v", found.GetContext())
	}
}

func TestParentContexts(t *testing.T) {
	e := newEnv(t)
	pipeType, runType := e.contextType("system.Pipeline"), e.contextType("system.PipelineRun")
	pipe, run, other := e.newContext(pipeType, "p"), e.newContext(runType, "r"), e.newContext(runType, "r2")
	link := func(child, parent int64) error {
		_, err := e.c.PutParentContexts(e.ctx, &mlmd.PutParentContextsRequest{ParentContexts: []*mlmd.ParentContext{
			{ChildId: proto.Int64(child), ParentId: proto.Int64(parent)},
		}})
		return err
	}
	tests := []struct {
		name          string
		child, parent int64
		want          codes.Code
	}{
		{"new link", run, pipe, codes.OK},
		{"same link again", run, pipe, codes.AlreadyExists},
		{"second child", other, pipe, codes.OK},
		{"cycle", pipe, run, codes.InvalidArgument},
		{"self", pipe, pipe, codes.InvalidArgument},
		{"unknown parent", run, 999, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, link(tc.child, tc.parent), tc.want) })
	}
	parents := must[*mlmd.GetParentContextsByContextResponse](t)(e.c.GetParentContextsByContext(e.ctx, &mlmd.GetParentContextsByContextRequest{ContextId: proto.Int64(run)}))
	if got := idsOf(parents.GetContexts()); !slices.Equal(got, []int64{pipe}) {
		t.Errorf("parents of run = %v, want [%d]", got, pipe)
	}
	children := must[*mlmd.GetChildrenContextsByContextResponse](t)(e.c.GetChildrenContextsByContext(e.ctx, &mlmd.GetChildrenContextsByContextRequest{ContextId: proto.Int64(pipe)}))
	if got := idsOf(children.GetContexts()); !slices.Equal(got, []int64{run, other}) {
		t.Errorf("children of pipeline = %v, want [%d %d]", got, run, other)
	}
	none := must[*mlmd.GetParentContextsByContextResponse](t)(e.c.GetParentContextsByContext(e.ctx, &mlmd.GetParentContextsByContextRequest{ContextId: proto.Int64(pipe)}))
	if len(none.GetContexts()) != 0 {
		t.Errorf("pipeline has parents %v, want none", none.GetContexts())
	}
	batch := must[*mlmd.GetParentContextsByContextsResponse](t)(e.c.GetParentContextsByContexts(e.ctx, &mlmd.GetParentContextsByContextsRequest{ContextIds: []int64{run, pipe}}))
	if len(batch.GetContexts()) != 1 || batch.GetContexts()[run].GetParentContexts()[0].GetId() != pipe {
		t.Errorf("GetParentContextsByContexts = %v, want only %d -> %d", batch.GetContexts(), run, pipe)
	}
}

func TestContextsByExecutionAndArtifactNotFoundWhenUnlinked(t *testing.T) {
	e := newEnv(t)
	execType, artType := e.executionType("system.ContainerExecution"), e.artifactType("system.Artifact")
	exec := e.putExecution(&mlmd.Execution{TypeId: proto.Int64(execType)})
	art := e.newArtifact(artType, "minio://x")
	_, err := e.c.GetContextsByExecution(e.ctx, &mlmd.GetContextsByExecutionRequest{ExecutionId: proto.Int64(exec)})
	wantCode(t, err, codes.NotFound)
	_, err = e.c.GetContextsByArtifact(e.ctx, &mlmd.GetContextsByArtifactRequest{ArtifactId: proto.Int64(art)})
	wantCode(t, err, codes.NotFound)
}

func TestPutAttributionsAndAssociations(t *testing.T) {
	e := newEnv(t)
	runType, execType, artType := e.contextType("system.PipelineRun"), e.executionType("system.ContainerExecution"), e.artifactType("system.Artifact")
	run := e.newContext(runType, "r")
	exec := e.putExecution(&mlmd.Execution{TypeId: proto.Int64(execType)})
	art := e.newArtifact(artType, "minio://x")
	req := &mlmd.PutAttributionsAndAssociationsRequest{
		Attributions: []*mlmd.Attribution{{ContextId: proto.Int64(run), ArtifactId: proto.Int64(art)}},
		Associations: []*mlmd.Association{{ContextId: proto.Int64(run), ExecutionId: proto.Int64(exec)}},
	}
	must[*mlmd.PutAttributionsAndAssociationsResponse](t)(e.c.PutAttributionsAndAssociations(e.ctx, req))
	// Existing links are not an error.
	must[*mlmd.PutAttributionsAndAssociationsResponse](t)(e.c.PutAttributionsAndAssociations(e.ctx, req))
	byExec := must[*mlmd.GetContextsByExecutionResponse](t)(e.c.GetContextsByExecution(e.ctx, &mlmd.GetContextsByExecutionRequest{ExecutionId: proto.Int64(exec)}))
	byArt := must[*mlmd.GetContextsByArtifactResponse](t)(e.c.GetContextsByArtifact(e.ctx, &mlmd.GetContextsByArtifactRequest{ArtifactId: proto.Int64(art)}))
	if !slices.Equal(idsOf(byExec.GetContexts()), []int64{run}) || !slices.Equal(idsOf(byArt.GetContexts()), []int64{run}) {
		t.Errorf("contexts by execution %v, by artifact %v; want [%d] each", idsOf(byExec.GetContexts()), idsOf(byArt.GetContexts()), run)
	}
	arts := must[*mlmd.GetArtifactsByContextResponse](t)(e.c.GetArtifactsByContext(e.ctx, &mlmd.GetArtifactsByContextRequest{ContextId: proto.Int64(run)}))
	if !slices.Equal(idsOf(arts.GetArtifacts()), []int64{art}) {
		t.Errorf("GetArtifactsByContext = %v, want [%d]", idsOf(arts.GetArtifacts()), art)
	}
	_, err := e.c.PutAttributionsAndAssociations(e.ctx, &mlmd.PutAttributionsAndAssociationsRequest{
		Associations: []*mlmd.Association{{ContextId: proto.Int64(run), ExecutionId: proto.Int64(999)}},
	})
	wantCode(t, err, codes.InvalidArgument)
}

// TestConcurrentGetOrCreateContext runs KFP's get-or-create of the run
// context from 16 goroutines at once: exactly one context may result.
func TestConcurrentGetOrCreateContext(t *testing.T) {
	e := newEnv(t)
	const workers = 16
	ids := make([]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			id, err := getOrCreateRunContext(e, "run-42")
			if err != nil {
				t.Error(err)
			}
			ids[w] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == 0 || id != ids[0] {
			t.Fatalf("get-or-create returned ids %v, want one id everywhere", ids)
		}
	}
	all := must[*mlmd.GetContextsResponse](t)(e.c.GetContexts(e.ctx, &mlmd.GetContextsRequest{}))
	if len(all.GetContexts()) != 1 {
		t.Fatalf("store holds %d contexts, want 1", len(all.GetContexts()))
	}
}

// getOrCreateRunContext is the client logic KFP's driver uses: get, else
// get-or-put the type, put the context tolerating ALREADY_EXISTS, get again.
func getOrCreateRunContext(e *env, name string) (int64, error) {
	const typeName = "system.PipelineRun"
	get := func() (*mlmd.Context, error) {
		r, err := e.c.GetContextByTypeAndName(e.ctx, &mlmd.GetContextByTypeAndNameRequest{TypeName: proto.String(typeName), ContextName: proto.String(name)})
		return r.GetContext(), err
	}
	if c, err := get(); err != nil || c != nil {
		return c.GetId(), err
	}
	typeResp, err := e.c.PutContextType(e.ctx, &mlmd.PutContextTypeRequest{ContextType: &mlmd.ContextType{Name: proto.String(typeName)}})
	if err != nil {
		return 0, err
	}
	_, err = e.c.PutContexts(e.ctx, &mlmd.PutContextsRequest{Contexts: []*mlmd.Context{{TypeId: typeResp.TypeId, Name: proto.String(name)}}})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return 0, err
	}
	c, err := get()
	return c.GetId(), err
}
