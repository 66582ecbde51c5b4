package mlmdserver_test

import (
	"slices"
	"sync"
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// kfpRun is the MLMD state the KFP driver builds for a run: pipeline and
// run contexts, the execution and artifact types, and one input artifact.
type kfpRun struct {
	*env
	pipeCtx, runCtx   *mlmd.Context
	dagType, contType int64
	artType           int64
	input             int64
}

func newKFPRun(t *testing.T) *kfpRun {
	e := newEnv(t)
	r := &kfpRun{env: e}
	pipe := e.newContext(e.contextType("system.Pipeline"), "my-pipeline")
	run := e.newContext(e.contextType("system.PipelineRun"), "run-uuid")
	r.pipeCtx, r.runCtx = e.getContext(pipe), e.getContext(run)
	r.dagType, r.contType = e.executionType("system.DAGExecution"), e.executionType("system.ContainerExecution")
	r.artType = e.artifactType("system.Dataset")
	r.input = e.newArtifact(r.artType, "minio://bucket/in")
	return r
}

func inputEvent(artifactID int64, key string) *mlmd.PutExecutionRequest_ArtifactAndEvent {
	return &mlmd.PutExecutionRequest_ArtifactAndEvent{Event: &mlmd.Event{
		ArtifactId: proto.Int64(artifactID), Type: mlmd.Event_INPUT.Enum(),
		Path: &mlmd.Event_Path{Steps: []*mlmd.Event_Path_Step{{Value: &mlmd.Event_Path_Step_Key{Key: key}}}},
	}}
}

// snapshot is everything a failed write must leave untouched.
func (e *env) snapshot() []proto.Message {
	e.t.Helper()
	var all []proto.Message
	execs := must[*mlmd.GetExecutionsResponse](e.t)(e.c.GetExecutions(e.ctx, &mlmd.GetExecutionsRequest{}))
	arts := must[*mlmd.GetArtifactsResponse](e.t)(e.c.GetArtifacts(e.ctx, &mlmd.GetArtifactsRequest{}))
	ctxs := must[*mlmd.GetContextsResponse](e.t)(e.c.GetContexts(e.ctx, &mlmd.GetContextsRequest{}))
	evs := must[*mlmd.GetEventsByArtifactIDsResponse](e.t)(e.c.GetEventsByArtifactIDs(e.ctx, &mlmd.GetEventsByArtifactIDsRequest{ArtifactIds: idsOf(arts.GetArtifacts())}))
	all = append(all, execs, arts, ctxs, evs)
	for _, c := range ctxs.GetContexts() {
		ex, _ := e.c.GetExecutionsByContext(e.ctx, &mlmd.GetExecutionsByContextRequest{ContextId: c.Id})
		ar, _ := e.c.GetArtifactsByContext(e.ctx, &mlmd.GetArtifactsByContextRequest{ContextId: c.Id})
		all = append(all, ex, ar)
	}
	return all
}

func TestPutExecutionRollsBackEverythingOnFailure(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *kfpRun, req *mlmd.PutExecutionRequest)
		want codes.Code
	}{
		{"bad artifact: unknown type", func(r *kfpRun, req *mlmd.PutExecutionRequest) {
			req.ArtifactEventPairs = append(req.ArtifactEventPairs, &mlmd.PutExecutionRequest_ArtifactAndEvent{
				Artifact: &mlmd.Artifact{TypeId: proto.Int64(999), Uri: proto.String("minio://bad")},
			})
		}, codes.NotFound},
		{"bad artifact: unknown id", func(r *kfpRun, req *mlmd.PutExecutionRequest) {
			req.ArtifactEventPairs = append(req.ArtifactEventPairs, &mlmd.PutExecutionRequest_ArtifactAndEvent{
				Artifact: &mlmd.Artifact{Id: proto.Int64(999), Uri: proto.String("minio://bad")},
			})
		}, codes.InvalidArgument},
		{"duplicate INPUT event of one artifact", func(r *kfpRun, req *mlmd.PutExecutionRequest) {
			req.ArtifactEventPairs = append(req.ArtifactEventPairs, inputEvent(r.input, "again"))
		}, codes.AlreadyExists},
		{"event refers to a missing artifact", func(r *kfpRun, req *mlmd.PutExecutionRequest) {
			req.ArtifactEventPairs = append(req.ArtifactEventPairs, inputEvent(999, "ghost"))
		}, codes.InvalidArgument},
		{"last context is invalid", func(r *kfpRun, req *mlmd.PutExecutionRequest) {
			req.Contexts = append(req.Contexts, &mlmd.Context{TypeId: r.runCtx.TypeId})
		}, codes.InvalidArgument},
		{"new context collides without reuse option", func(r *kfpRun, req *mlmd.PutExecutionRequest) {
			req.Contexts = append(req.Contexts, &mlmd.Context{TypeId: r.runCtx.TypeId, Name: r.runCtx.Name})
		}, codes.AlreadyExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newKFPRun(t)
			before := r.snapshot()
			// A valid request (new output artifact, new execution, a new
			// context, both run contexts, an input event) spoiled at the end.
			req := &mlmd.PutExecutionRequest{
				Execution: &mlmd.Execution{TypeId: proto.Int64(r.contType), LastKnownState: mlmd.Execution_RUNNING.Enum()},
				ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{
					inputEvent(r.input, "dataset"),
					{Artifact: &mlmd.Artifact{TypeId: proto.Int64(r.artType), Uri: proto.String("minio://out")},
						Event: &mlmd.Event{Type: mlmd.Event_OUTPUT.Enum()}},
				},
				Contexts: []*mlmd.Context{r.pipeCtx, r.runCtx, {TypeId: r.runCtx.TypeId, Name: proto.String("brand-new")}},
			}
			tc.edit(r, req)
			_, err := r.c.PutExecution(r.ctx, req)
			wantCode(t, err, tc.want)
			after := r.snapshot()
			for i := range before {
				if !proto.Equal(before[i], after[i]) {
					t.Fatalf("failed PutExecution changed the store:\nbefore %v\nafter  %v", before[i], after[i])
				}
			}
		})
	}
}

func TestPutExecutionCreateLinksContextsEventsAndArtifacts(t *testing.T) {
	r := newKFPRun(t)
	resp := must[*mlmd.PutExecutionResponse](t)(r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{
		Execution: &mlmd.Execution{
			TypeId: proto.Int64(r.contType), LastKnownState: mlmd.Execution_RUNNING.Enum(),
			CustomProperties: map[string]*mlmd.Value{"task_name": strV("train"), "parent_dag_id": intV(1)},
		},
		ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{inputEvent(r.input, "dataset"), {}},
		Contexts:           []*mlmd.Context{r.pipeCtx, r.runCtx},
	}))
	exec := resp.GetExecutionId()
	if !slices.Equal(resp.GetArtifactIds(), []int64{r.input, -1}) {
		t.Errorf("artifact_ids = %v, want [%d -1] (-1 for the empty pair)", resp.GetArtifactIds(), r.input)
	}
	if !slices.Equal(resp.GetContextIds(), []int64{r.pipeCtx.GetId(), r.runCtx.GetId()}) {
		t.Errorf("context_ids = %v", resp.GetContextIds())
	}
	got := r.getExecution(exec)
	if got.GetType() != "system.ContainerExecution" || got.GetCustomProperties()["task_name"].GetStringValue() != "train" {
		t.Errorf("stored execution = %v", got)
	}
	ctxs := must[*mlmd.GetContextsByExecutionResponse](t)(r.c.GetContextsByExecution(r.ctx, &mlmd.GetContextsByExecutionRequest{ExecutionId: &exec}))
	if !slices.Equal(idsOf(ctxs.GetContexts()), resp.GetContextIds()) {
		t.Errorf("GetContextsByExecution = %v, want %v", idsOf(ctxs.GetContexts()), resp.GetContextIds())
	}
	// Input artifacts given only by event are attributed to the contexts too.
	artCtxs := must[*mlmd.GetContextsByArtifactResponse](t)(r.c.GetContextsByArtifact(r.ctx, &mlmd.GetContextsByArtifactRequest{ArtifactId: &r.input}))
	if !slices.Equal(idsOf(artCtxs.GetContexts()), resp.GetContextIds()) {
		t.Errorf("GetContextsByArtifact = %v, want %v", idsOf(artCtxs.GetContexts()), resp.GetContextIds())
	}
	events := must[*mlmd.GetEventsByExecutionIDsResponse](t)(r.c.GetEventsByExecutionIDs(r.ctx, &mlmd.GetEventsByExecutionIDsRequest{ExecutionIds: []int64{exec}}))
	if len(events.GetEvents()) != 1 || events.GetEvents()[0].GetArtifactId() != r.input ||
		events.GetEvents()[0].GetPath().GetSteps()[0].GetKey() != "dataset" || events.GetEvents()[0].GetMillisecondsSinceEpoch() == 0 {
		t.Errorf("events = %v", events.GetEvents())
	}
}

// TestPutExecutionPublish is the launcher's publish: the stored execution
// echoed back with a new state and outputs, a new output artifact with its
// OUTPUT event, and both contexts as read from MLMD.
func TestPutExecutionPublish(t *testing.T) {
	r := newKFPRun(t)
	exec := r.putExecution(&mlmd.Execution{
		TypeId: proto.Int64(r.contType), LastKnownState: mlmd.Execution_RUNNING.Enum(),
		CustomProperties: map[string]*mlmd.Value{"task_name": strV("train")},
	}, r.pipeCtx.GetId(), r.runCtx.GetId())
	stored := r.getExecution(exec)
	stored.LastKnownState = mlmd.Execution_COMPLETE.Enum()
	stored.CustomProperties["pod_name"] = strV("train-pod")
	stored.Name = proto.String("renamed") // names are write-once: ignored
	resp := must[*mlmd.PutExecutionResponse](t)(r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{
		Execution: stored,
		ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Artifact: &mlmd.Artifact{TypeId: proto.Int64(r.artType), Uri: proto.String("minio://model"), State: mlmd.Artifact_LIVE.Enum()},
			Event:    &mlmd.Event{Type: mlmd.Event_OUTPUT.Enum()},
		}},
		Contexts: []*mlmd.Context{r.pipeCtx, r.runCtx},
	}))
	if resp.GetExecutionId() != exec {
		t.Fatalf("publish returned execution %d, want %d", resp.GetExecutionId(), exec)
	}
	got := r.getExecution(exec)
	if got.GetLastKnownState() != mlmd.Execution_COMPLETE || got.GetCustomProperties()["pod_name"].GetStringValue() != "train-pod" || got.Name != nil {
		t.Errorf("published execution = %v", got)
	}
	out := resp.GetArtifactIds()[0]
	arts := must[*mlmd.GetArtifactsByContextResponse](t)(r.c.GetArtifactsByContext(r.ctx, &mlmd.GetArtifactsByContextRequest{ContextId: r.runCtx.Id}))
	if !slices.Contains(idsOf(arts.GetArtifacts()), out) {
		t.Errorf("output artifact %d not attributed to the run context: %v", out, idsOf(arts.GetArtifacts()))
	}
	events := must[*mlmd.GetEventsByArtifactIDsResponse](t)(r.c.GetEventsByArtifactIDs(r.ctx, &mlmd.GetEventsByArtifactIDsRequest{ArtifactIds: []int64{out}}))
	if len(events.GetEvents()) != 1 || events.GetEvents()[0].GetType() != mlmd.Event_OUTPUT || events.GetEvents()[0].GetExecutionId() != exec {
		t.Errorf("events of the output artifact = %v", events.GetEvents())
	}
}

func TestPutExecutionRequestErrors(t *testing.T) {
	r := newKFPRun(t)
	execution := func() *mlmd.Execution { return &mlmd.Execution{TypeId: proto.Int64(r.contType)} }
	tests := []struct {
		name string
		req  *mlmd.PutExecutionRequest
		want codes.Code
	}{
		{"no execution", &mlmd.PutExecutionRequest{}, codes.InvalidArgument},
		{"execution without type", &mlmd.PutExecutionRequest{Execution: &mlmd.Execution{}}, codes.InvalidArgument},
		{"event.execution_id differs", &mlmd.PutExecutionRequest{Execution: execution(), ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Event: &mlmd.Event{ArtifactId: proto.Int64(r.input), ExecutionId: proto.Int64(999), Type: mlmd.Event_INPUT.Enum()},
		}}}, codes.InvalidArgument},
		{"event.artifact_id not aligned with its artifact", &mlmd.PutExecutionRequest{Execution: execution(), ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Artifact: &mlmd.Artifact{TypeId: proto.Int64(r.artType)},
			Event:    &mlmd.Event{ArtifactId: proto.Int64(r.input), Type: mlmd.Event_OUTPUT.Enum()},
		}}}, codes.InvalidArgument},
		{"event without artifact or artifact_id", &mlmd.PutExecutionRequest{Execution: execution(), ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Event: &mlmd.Event{Type: mlmd.Event_INPUT.Enum()},
		}}}, codes.InvalidArgument},
		{"event without type", &mlmd.PutExecutionRequest{Execution: execution(), ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Event: &mlmd.Event{ArtifactId: proto.Int64(r.input)},
		}}}, codes.InvalidArgument},
		{"context without type_id", &mlmd.PutExecutionRequest{Execution: execution(), Contexts: []*mlmd.Context{{Name: proto.String("x")}}}, codes.InvalidArgument},
		{"context id without name", &mlmd.PutExecutionRequest{Execution: execution(), Contexts: []*mlmd.Context{{Id: r.runCtx.Id, TypeId: r.runCtx.TypeId}}}, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.c.PutExecution(r.ctx, tc.req)
			wantCode(t, err, tc.want)
		})
	}
}

func TestPutExecutionReuseOptions(t *testing.T) {
	r := newKFPRun(t)
	newRunCtx := func() *mlmd.Context { return &mlmd.Context{TypeId: r.runCtx.TypeId, Name: r.runCtx.Name} }
	resp := must[*mlmd.PutExecutionResponse](t)(r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{
		Execution: &mlmd.Execution{TypeId: proto.Int64(r.contType)},
		ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Artifact: &mlmd.Artifact{TypeId: proto.Int64(r.artType), ExternalId: proto.String("ext-1"), Uri: proto.String("minio://v1")},
		}},
		Contexts: []*mlmd.Context{newRunCtx()},
		Options:  &mlmd.PutExecutionRequest_Options{ReuseContextIfAlreadyExist: proto.Bool(true)},
	}))
	if resp.GetContextIds()[0] != r.runCtx.GetId() {
		t.Errorf("reuse_context_if_already_exist gave context %d, want %d", resp.GetContextIds()[0], r.runCtx.GetId())
	}
	first := resp.GetArtifactIds()[0]

	again := must[*mlmd.PutExecutionResponse](t)(r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{
		Execution: &mlmd.Execution{TypeId: proto.Int64(r.contType)},
		ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Artifact: &mlmd.Artifact{TypeId: proto.Int64(r.artType), ExternalId: proto.String("ext-1"), Uri: proto.String("minio://v2")},
		}},
		Options: &mlmd.PutExecutionRequest_Options{ReuseArtifactIfAlreadyExistByExternalId: proto.Bool(true)},
	}))
	if again.GetArtifactIds()[0] != first {
		t.Errorf("reuse by external_id gave artifact %d, want %d", again.GetArtifactIds()[0], first)
	}
	arts := must[*mlmd.GetArtifactsByIDResponse](t)(r.c.GetArtifactsByID(r.ctx, &mlmd.GetArtifactsByIDRequest{ArtifactIds: []int64{first}}))
	if arts.GetArtifacts()[0].GetUri() != "minio://v2" {
		t.Errorf("reused artifact uri = %q, want the update minio://v2", arts.GetArtifacts()[0].GetUri())
	}

	_, err := r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{
		Execution: &mlmd.Execution{TypeId: proto.Int64(r.contType)},
		ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{{
			Artifact: &mlmd.Artifact{TypeId: proto.Int64(r.artType), ExternalId: proto.String("ext-1")},
		}},
	})
	wantCode(t, err, codes.AlreadyExists)
}

// TestRootExecutionNameIsUnique is the KFP root driver's idempotency: a
// retried root PutExecution with name run/<id> is ALREADY_EXISTS and the
// existing execution is found by type and name.
func TestRootExecutionNameIsUnique(t *testing.T) {
	r := newKFPRun(t)
	root := func() *mlmd.Execution {
		return &mlmd.Execution{TypeId: proto.Int64(r.dagType), Name: proto.String("run/run-uuid"), LastKnownState: mlmd.Execution_RUNNING.Enum()}
	}
	first := r.putExecution(root(), r.pipeCtx.GetId(), r.runCtx.GetId())
	_, err := r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{Execution: root(), Contexts: []*mlmd.Context{r.pipeCtx, r.runCtx}})
	wantCode(t, err, codes.AlreadyExists)
	found := must[*mlmd.GetExecutionByTypeAndNameResponse](t)(r.c.GetExecutionByTypeAndName(r.ctx, &mlmd.GetExecutionByTypeAndNameRequest{
		TypeName: proto.String("system.DAGExecution"), ExecutionName: proto.String("run/run-uuid"),
	}))
	if found.GetExecution().GetId() != first {
		t.Errorf("GetExecutionByTypeAndName = %v, want id %d", found.GetExecution(), first)
	}
	// Names are unique per type only.
	other := root()
	other.TypeId = proto.Int64(r.contType)
	must[*mlmd.PutExecutionsResponse](t)(r.c.PutExecutions(r.ctx, &mlmd.PutExecutionsRequest{Executions: []*mlmd.Execution{other}}))
}

// TestConcurrentPutExecution has 16 drivers record executions into the same
// run at once: every id is distinct, each driver sees its ids increase, and
// the run lists exactly what was written.
func TestConcurrentPutExecution(t *testing.T) {
	r := newKFPRun(t)
	const workers, perWorker = 16, 10
	ids := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range perWorker {
				resp, err := r.c.PutExecution(r.ctx, &mlmd.PutExecutionRequest{
					Execution:          &mlmd.Execution{TypeId: proto.Int64(r.contType)},
					ArtifactEventPairs: []*mlmd.PutExecutionRequest_ArtifactAndEvent{inputEvent(r.input, "dataset")},
					Contexts:           []*mlmd.Context{r.pipeCtx, r.runCtx},
				})
				if err != nil {
					t.Error(err)
					return
				}
				ids[w] = append(ids[w], resp.GetExecutionId())
			}
		})
	}
	wg.Wait()
	var all []int64
	for w, mine := range ids {
		if !slices.IsSorted(mine) {
			t.Errorf("worker %d got ids %v, want increasing", w, mine)
		}
		all = append(all, mine...)
	}
	slices.Sort(all)
	if distinct := slices.Compact(slices.Clone(all)); len(distinct) != workers*perWorker {
		t.Fatalf("got %d distinct ids, want %d", len(distinct), workers*perWorker)
	}
	listed := must[*mlmd.GetExecutionsByContextResponse](t)(r.c.GetExecutionsByContext(r.ctx, &mlmd.GetExecutionsByContextRequest{ContextId: r.runCtx.Id}))
	if !slices.Equal(idsOf(listed.GetExecutions()), all) {
		t.Errorf("run lists %d executions, want the %d written", len(listed.GetExecutions()), len(all))
	}
}
