package apirecords

import (
	"context"
	"sync"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// store reads one run's tasks (record.Store). The API server hydrates a
// task's input and output artifacts from their links, so the artifacts of
// a listed task cost no further round trip. Loops show their iterations
// (iteration.go).
type store struct {
	client *kfpapi.Client
	runID  string
	spec   *runSpec

	mu         sync.Mutex
	seen       map[string]*pb.PipelineTask
	iterations map[string]*iteration
}

var _ record.Store = (*store)(nil)

func newStore(c *kfpapi.Client, runID string, spec *runSpec, known ...*pb.PipelineTask) *store {
	s := &store{client: c, runID: runID, spec: spec, seen: map[string]*pb.PipelineTask{}, iterations: map[string]*iteration{}}
	for _, t := range known {
		s.seen[t.GetTaskId()] = t
	}
	return s
}

// Children lists the parents' children with those names in one listing
// (the server filters): a loop's are its iterations, an iteration's the
// loop's children with its index.
func (s *store) Children(ctx context.Context, parents []string, names ...string) ([]record.Task, error) {
	var out []record.Task
	var list []string
	want := map[string]map[int]bool{} // per loop listed, the iterations asked for
	for _, p := range parents {
		if loop, i, ok := splitRef(p); ok {
			if want[loop] == nil {
				want[loop] = map[int]bool{}
				list = append(list, loop)
			}
			want[loop][i] = true
			continue
		}
		t, err := s.task(ctx, p)
		if err != nil {
			return nil, err
		}
		if isLoop(t) && len(names) == 0 {
			its, err := s.iterationsOf(t)
			if err != nil {
				return nil, err
			}
			out = append(out, its...)
			continue
		}
		list = append(list, p)
	}
	if len(list) == 0 {
		return out, nil
	}
	kids, err := s.client.Children(ctx, s.runID, list, names...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range kids {
		s.seen[k.GetTaskId()] = k
		w := &task{t: k, spec: s.spec}
		if iters := want[k.GetParentTaskId()]; iters != nil {
			i, ok := w.IterationIndex()
			if !ok || !iters[i] {
				continue
			}
			w.parent = iterationRef(k.GetParentTaskId(), i)
		}
		out = append(out, w)
	}
	return out, nil
}

// iterationsOf is a loop task's iterations, in order.
func (s *store) iterationsOf(loop *pb.PipelineTask) ([]record.Task, error) {
	n := int(loop.GetTypeAttributes().GetIterationCount())
	out := make([]record.Task, 0, n)
	for i := range n {
		it, err := s.iteration(loop, i)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// iteration is iteration i of loop, built once per store.
func (s *store) iteration(loop *pb.PipelineTask, i int) (*iteration, error) {
	ref := iterationRef(loop.GetTaskId(), i)
	s.mu.Lock()
	it, ok := s.iterations[ref]
	s.mu.Unlock()
	if ok {
		return it, nil
	}
	it, err := newIteration(loop, i, s.spec)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.iterations[ref] = it
	s.mu.Unlock()
	return it, nil
}

// Artifacts are the input and output artifacts of tasks this store has
// read (others are read first), and the input artifacts of iterations.
func (s *store) Artifacts(ctx context.Context, tasks ...string) (map[string][]record.Artifact, error) {
	out := make(map[string][]record.Artifact, len(tasks))
	for _, id := range tasks {
		if loop, i, ok := splitRef(id); ok {
			t, err := s.task(ctx, loop)
			if err != nil {
				return nil, err
			}
			it, err := s.iteration(t, i)
			if err != nil {
				return nil, err
			}
			out[id] = it.artifacts()
			continue
		}
		t, err := s.task(ctx, id)
		if err != nil {
			return nil, err
		}
		out[id] = append(linked(t.GetInputs(), true), linked(t.GetOutputs(), false)...)
	}
	return out, nil
}

func (s *store) task(ctx context.Context, id string) (*pb.PipelineTask, error) {
	s.mu.Lock()
	t, ok := s.seen[id]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := s.client.GetTask(ctx, s.runID, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.seen[id] = t
	s.mu.Unlock()
	return t, nil
}

func linked(io *pb.PipelineTask_InputOutputs, input bool) []record.Artifact {
	var out []record.Artifact
	for _, a := range io.GetArtifacts() {
		for _, art := range a.GetArtifacts() {
			out = append(out, record.Artifact{Input: input, Keys: []string{a.GetArtifactKey()}, Artifact: runtimeArtifact(art)})
		}
	}
	return out
}

// runtimeArtifact is an API server artifact in an executor input. Its name
// is the artifact ID, from which the driver links the artifact to the
// tasks that read it (the pinned pipelinespec predates RuntimeArtifact's
// artifact_id field).
func runtimeArtifact(a *pb.Artifact) *pipelinespec.RuntimeArtifact {
	ra := &pipelinespec.RuntimeArtifact{
		Name: a.GetArtifactId(),
		Uri:  a.GetUri(),
		Type: &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: kfpapi.SchemaTitle(a.GetType())}},
	}
	if len(a.GetMetadata()) > 0 {
		ra.Metadata = &structpb.Struct{Fields: a.GetMetadata()}
	}
	return ra
}
