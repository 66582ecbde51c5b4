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
// a listed task cost no further round trip.
type store struct {
	client *kfpapi.Client
	runID  string
	spec   *runSpec

	mu   sync.Mutex
	seen map[string]*pb.PipelineTask
}

var _ record.Store = (*store)(nil)

func newStore(c *kfpapi.Client, runID string, spec *runSpec, known ...*pb.PipelineTask) *store {
	s := &store{client: c, runID: runID, spec: spec, seen: map[string]*pb.PipelineTask{}}
	for _, t := range known {
		s.seen[t.GetTaskId()] = t
	}
	return s
}

func (s *store) wrap(t *pb.PipelineTask) record.Task { return &task{t: t, spec: s.spec} }

// Children lists the parents' children with those names in one listing
// (the server filters).
func (s *store) Children(ctx context.Context, parents []string, names ...string) ([]record.Task, error) {
	kids, err := s.client.Children(ctx, s.runID, parents, names...)
	if err != nil {
		return nil, err
	}
	out := make([]record.Task, len(kids))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range kids {
		s.seen[t.GetTaskId()] = t
		out[i] = s.wrap(t)
	}
	return out, nil
}

// Artifacts are the input and output artifacts of tasks this store has
// read; others are read first.
func (s *store) Artifacts(ctx context.Context, tasks ...string) (map[string][]record.Artifact, error) {
	out := make(map[string][]record.Artifact, len(tasks))
	for _, id := range tasks {
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
