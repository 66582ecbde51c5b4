package inputs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// artifactWant is one input artifact to fetch: from the parent DAG's inputs
// or from upstream producers' outputs.
type artifactWant struct {
	name    string
	input   bool // the parent's input, else a producer's output
	sources []source
}

// artifacts resolves all input artifacts with one batched read.
func (r *Resolver) artifacts(ctx context.Context, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec, res *Resolved) error {
	var wants []artifactWant
	var ids []string
	for _, name := range slices.Sorted(maps.Keys(task.GetInputs().GetArtifacts())) {
		w, err := r.artifactSources(ctx, name, task.GetInputs().GetArtifacts()[name])
		if err != nil {
			return r.inputErr(name, err)
		}
		wants = append(wants, w)
		for _, s := range w.sources {
			ids = append(ids, s.exec.Ref())
		}
	}
	if err := r.fetchLinked(ctx, ids); err != nil {
		return err
	}
	for _, w := range wants {
		list, err := r.assemble(w)
		if errors.Is(err, errNoArtifact) && comp.GetInputDefinitions().GetArtifacts()[w.name].GetIsOptional() {
			continue
		}
		if err != nil {
			return r.inputErr(w.name, err)
		}
		res.Inputs.Artifacts[w.name] = list
	}
	return nil
}

func (r *Resolver) artifactSources(ctx context.Context, name string, spec *pipelinespec.TaskInputsSpec_InputArtifactSpec) (artifactWant, error) {
	switch k := spec.GetKind().(type) {
	case *pipelinespec.TaskInputsSpec_InputArtifactSpec_ComponentInputArtifact:
		return artifactWant{name: name, input: true,
			sources: []source{{r.parent, k.ComponentInputArtifact}}}, nil
	case *pipelinespec.TaskInputsSpec_InputArtifactSpec_TaskOutputArtifact:
		ref := k.TaskOutputArtifact
		if ref.GetProducerTask() == "" || ref.GetOutputArtifactKey() == "" {
			return artifactWant{}, errors.New("task output artifact needs producerTask and outputArtifactKey")
		}
		srcs, _, err := r.sources(ctx, ref.GetProducerTask(), ref.GetOutputArtifactKey(), false)
		return artifactWant{name: name, sources: srcs}, err
	case nil:
		return artifactWant{}, errors.New("the input spec sets no kind")
	default:
		return artifactWant{}, fmt.Errorf("unsupported input artifact kind %T", k)
	}
}

// fetchLinked reads the linked artifacts of records not read yet.
func (r *Resolver) fetchLinked(ctx context.Context, ids []string) error {
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := r.linked[id]; !ok && !seen[id] {
			missing = append(missing, id)
			seen[id] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	got, err := r.store.Artifacts(ctx, missing...)
	if err != nil {
		return err
	}
	for _, id := range missing {
		r.linked[id] = got[id]
	}
	return nil
}

func (r *Resolver) assemble(w artifactWant) (*pipelinespec.ArtifactList, error) {
	list := &pipelinespec.ArtifactList{}
	for _, s := range w.sources {
		arts := linkedUnder(r.linked[s.exec.Ref()], w.input, s.key)
		if len(arts) == 0 {
			return nil, missingArtifact(s, w.input)
		}
		for _, ra := range arts {
			if s.exec.WorkspaceImporter() {
				markWorkspace(ra)
			}
			list.Artifacts = append(list.Artifacts, ra)
		}
	}
	return list, nil
}

var errNoArtifact = errors.New("no such artifact")

func missingArtifact(s source, input bool) error {
	if input {
		return fmt.Errorf("parent DAG (%s) has no input artifact %q: %w", s.exec.Label(), s.key, errNoArtifact)
	}
	return fmt.Errorf("upstream task %q (%s, %s) has no output artifact %q: %w",
		s.exec.TaskName(), s.exec.Label(), s.exec.StateName(), s.key, errNoArtifact)
}

// linkedUnder returns copies of the artifacts linked as input (or output)
// under key, in link order (a list has several). Copies: the executor input
// may be changed (workspace marks) and the fetched ones are shared.
func linkedUnder(linked []record.Artifact, input bool, key string) []*pipelinespec.RuntimeArtifact {
	var out []*pipelinespec.RuntimeArtifact
	for _, l := range linked {
		if l.Input == input && slices.Contains(l.Keys, key) {
			out = append(out, proto.CloneOf(l.Artifact))
		}
	}
	return out
}

func markWorkspace(ra *pipelinespec.RuntimeArtifact) {
	if ra.Metadata == nil {
		ra.Metadata = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	ra.Metadata.Fields[WorkspaceMetadataKey] = structpb.NewBoolValue(true)
}

// ParentArtifacts returns the parent DAG's input artifacts by name (what an
// iteration driver starts from).
func (r *Resolver) ParentArtifacts(ctx context.Context) (map[string]*pipelinespec.ArtifactList, error) {
	if err := r.fetchLinked(ctx, []string{r.parent.Ref()}); err != nil {
		return nil, err
	}
	out := map[string]*pipelinespec.ArtifactList{}
	for _, l := range r.linked[r.parent.Ref()] {
		if !l.Input {
			continue
		}
		for _, key := range l.Keys {
			if out[key] == nil {
				out[key] = &pipelinespec.ArtifactList{}
			}
			out[key].Artifacts = append(out[key].Artifacts, proto.CloneOf(l.Artifact))
		}
	}
	return out, nil
}
