package inputs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// artifactWant is one input artifact to fetch: from the parent DAG's inputs
// or from upstream producers' outputs.
type artifactWant struct {
	name    string
	event   pb.Event_Type
	sources []source
}

// artifacts resolves all input artifacts with one batched MLMD read.
func (r *Resolver) artifacts(ctx context.Context, task *pipelinespec.PipelineTaskSpec, comp *pipelinespec.ComponentSpec, res *Resolved) error {
	var wants []artifactWant
	var ids []int64
	for _, name := range slices.Sorted(maps.Keys(task.GetInputs().GetArtifacts())) {
		w, err := r.artifactSources(ctx, name, task.GetInputs().GetArtifacts()[name])
		if err != nil {
			return r.inputErr(name, err)
		}
		wants = append(wants, w)
		for _, s := range w.sources {
			ids = append(ids, s.exec.ID())
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
		return artifactWant{name: name, event: pb.Event_INPUT,
			sources: []source{{r.parent, k.ComponentInputArtifact}}}, nil
	case *pipelinespec.TaskInputsSpec_InputArtifactSpec_TaskOutputArtifact:
		ref := k.TaskOutputArtifact
		if ref.GetProducerTask() == "" || ref.GetOutputArtifactKey() == "" {
			return artifactWant{}, errors.New("task output artifact needs producerTask and outputArtifactKey")
		}
		srcs, _, err := r.sources(ctx, ref.GetProducerTask(), ref.GetOutputArtifactKey(), false)
		return artifactWant{name: name, event: pb.Event_OUTPUT, sources: srcs}, err
	case nil:
		return artifactWant{}, errors.New("the input spec sets no kind")
	default:
		return artifactWant{}, fmt.Errorf("unsupported input artifact kind %T", k)
	}
}

// fetchLinked reads the events and artifacts of executions not read yet.
func (r *Resolver) fetchLinked(ctx context.Context, ids []int64) error {
	var missing []int64
	seen := map[int64]bool{}
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
		arts := mlmd.Select(r.linked[s.exec.ID()], w.event, s.key)
		if len(arts) == 0 {
			return nil, missingArtifact(s, w.event)
		}
		for _, a := range arts {
			ra, err := RuntimeArtifact(a)
			if err != nil {
				return nil, err
			}
			if s.exec.TypeName == mlmd.WorkspaceImporterType {
				markWorkspace(ra)
			}
			list.Artifacts = append(list.Artifacts, ra)
		}
	}
	return list, nil
}

var errNoArtifact = errors.New("no such artifact")

func missingArtifact(s source, event pb.Event_Type) error {
	if event == pb.Event_INPUT {
		return fmt.Errorf("parent DAG (execution %d) has no input artifact %q: %w", s.exec.ID(), s.key, errNoArtifact)
	}
	return fmt.Errorf("upstream task %q (execution %d, %s) has no output artifact %q: %w",
		s.exec.TaskName(), s.exec.ID(), s.exec.State(), s.key, errNoArtifact)
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
	if err := r.fetchLinked(ctx, []int64{r.parent.ID()}); err != nil {
		return nil, err
	}
	out := map[string]*pipelinespec.ArtifactList{}
	for _, l := range r.linked[r.parent.ID()] {
		if l.Event != pb.Event_INPUT {
			continue
		}
		ra, err := RuntimeArtifact(l.Artifact)
		if err != nil {
			return nil, err
		}
		for _, key := range l.Keys {
			if out[key] == nil {
				out[key] = &pipelinespec.ArtifactList{}
			}
			out[key].Artifacts = append(out[key].Artifacts, ra)
		}
	}
	return out, nil
}
