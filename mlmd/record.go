package mlmd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// An Execution is a record.Task: the driver resolves inputs over MLMD
// executions through that interface.
var _ record.Task = (*Execution)(nil)

// Label names the execution in messages.
func (e *Execution) Label() string { return fmt.Sprintf("execution %d", e.ID()) }

// StateName is MLMD's name of the execution's state.
func (e *Execution) StateName() string { return e.State().String() }

// Ref is the execution ID in decimal.
func (e *Execution) Ref() string { return strconv.FormatInt(e.ID(), 10) }

// ParentRef is the parent DAG execution's ID in decimal ("0" for the root).
func (e *Execution) ParentRef() string { return strconv.FormatInt(e.ParentDAGID(), 10) }

// Status maps MLMD's execution state to the driver's.
func (e *Execution) Status() record.Status {
	switch e.State() {
	case pb.Execution_COMPLETE:
		return record.Succeeded
	case pb.Execution_CACHED:
		return record.Cached
	case pb.Execution_FAILED:
		return record.Failed
	case pb.Execution_CANCELED:
		return record.Skipped
	}
	return record.Running
}

// WorkspaceImporter marks the importer that placed its artifact in the
// pipeline workspace.
func (e *Execution) WorkspaceImporter() bool { return e.TypeName == WorkspaceImporterType }

// RunStore reads one run's executions and their artifacts (record.Store).
type RunStore struct {
	Client *Client
	Run    *Run
}

var _ record.Store = RunStore{}

// Children lists the children of the given DAG executions.
func (s RunStore) Children(ctx context.Context, parents []string, names ...string) ([]record.Task, error) {
	ids, err := parseIDs(parents)
	if err != nil {
		return nil, err
	}
	execs, err := s.Client.ChildrenOf(ctx, s.Run, ids, names...)
	if err != nil {
		return nil, err
	}
	out := make([]record.Task, len(execs))
	for i, e := range execs {
		out[i] = e
	}
	return out, nil
}

// Artifacts reads the artifacts linked to executions by events.
func (s RunStore) Artifacts(ctx context.Context, tasks ...string) (map[string][]record.Artifact, error) {
	ids, err := parseIDs(tasks)
	if err != nil {
		return nil, err
	}
	linked, err := s.Client.Artifacts(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]record.Artifact, len(linked))
	for id, ls := range linked {
		key := strconv.FormatInt(id, 10)
		for _, l := range ls {
			ra, err := RuntimeArtifact(l.Artifact)
			if err != nil {
				return nil, err
			}
			out[key] = append(out[key], record.Artifact{Input: l.Event == pb.Event_INPUT, Keys: l.Keys, Artifact: ra})
		}
	}
	return out, nil
}

func parseIDs(ids []string) ([]int64, error) {
	out := make([]int64, len(ids))
	for i, s := range ids {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an MLMD execution ID", s)
		}
		out[i] = id
	}
	return out, nil
}

// RuntimeArtifact converts an MLMD artifact for an executor input: the name
// is the decimal MLMD ID (the driver turns it back into INPUT events), the
// metadata merges properties and custom properties. The type carries an
// empty instance schema, as KFP's driver sends it.
func RuntimeArtifact(a *pb.Artifact) (*pipelinespec.RuntimeArtifact, error) {
	md := map[string]*structpb.Value{}
	for _, props := range []map[string]*pb.Value{a.GetProperties(), a.GetCustomProperties()} {
		for k, v := range props {
			sv, err := metadataValue(v)
			if err != nil {
				return nil, fmt.Errorf("artifact %d property %q: %w", a.GetId(), k, err)
			}
			md[k] = sv
		}
	}
	ra := &pipelinespec.RuntimeArtifact{
		Name: strconv.FormatInt(a.GetId(), 10),
		Uri:  a.GetUri(),
		Type: &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_InstanceSchema{}},
	}
	if len(md) > 0 {
		ra.Metadata = &structpb.Struct{Fields: md}
	}
	return ra, nil
}

func metadataValue(v *pb.Value) (*structpb.Value, error) {
	switch k := v.GetValue().(type) {
	case *pb.Value_StringValue:
		return structpb.NewStringValue(k.StringValue), nil
	case *pb.Value_IntValue:
		return structpb.NewNumberValue(float64(k.IntValue)), nil
	case *pb.Value_DoubleValue:
		return structpb.NewNumberValue(k.DoubleValue), nil
	case *pb.Value_BoolValue:
		return structpb.NewBoolValue(k.BoolValue), nil
	case *pb.Value_StructValue:
		return structpb.NewStructValue(k.StructValue), nil
	}
	return nil, fmt.Errorf("unsupported MLMD value kind %T", v.GetValue())
}

// artifactProducer is one entry of KFP's artifact_producer_task property,
// which KFP encodes with Go's encoding/json and snake_case names.
type artifactProducer struct {
	Selectors []record.Selector `json:"artifact_selectors"`
}

// ProducerProps renders a DAG's output mapping as the custom properties KFP
// records on DAG executions (parameter_producer_task,
// artifact_producer_task); consumers follow them lazily.
func ProducerProps(dag *pipelinespec.DagSpec) (map[string]*pb.Value, error) {
	props := map[string]*pb.Value{}
	if params := dag.GetOutputs().GetParameters(); len(params) > 0 {
		fields := map[string]*structpb.Value{}
		for name, spec := range params {
			b, err := protojson.Marshal(spec)
			if err != nil {
				return nil, fmt.Errorf("encoding DAG output parameter %q: %w", name, err)
			}
			fields[name] = structpb.NewStringValue(string(b))
		}
		props[PropParameterProducer] = StructValue(fields)
	}
	if arts := dag.GetOutputs().GetArtifacts(); len(arts) > 0 {
		m := map[string]artifactProducer{}
		for name, spec := range arts {
			var p artifactProducer
			for _, s := range spec.GetArtifactSelectors() {
				p.Selectors = append(p.Selectors, record.Selector{Task: s.GetProducerSubtask(), Key: s.GetOutputArtifactKey()})
			}
			m[name] = p
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding DAG output artifacts: %w", err)
		}
		props[PropArtifactProducer] = StringValue(string(b))
	}
	return props, nil
}

// OutputProducers reads the candidates for a DAG execution's output key
// from the properties ProducerProps wrote.
func (e *Execution) OutputProducers(key string, param bool) ([]record.Selector, error) {
	if param {
		return e.parameterProducers(key)
	}
	return e.artifactProducers(key)
}

func (e *Execution) parameterProducers(key string) ([]record.Selector, error) {
	raw, ok := e.Struct(PropParameterProducer)[key]
	if !ok {
		return nil, fmt.Errorf("DAG task %q (execution %d) declares no output parameter %q", e.TaskName(), e.ID(), key)
	}
	var spec pipelinespec.DagOutputsSpec_DagOutputParameterSpec
	if err := protojson.Unmarshal([]byte(raw.GetStringValue()), &spec); err != nil {
		return nil, fmt.Errorf("DAG execution %d: output parameter %q mapping: %w", e.ID(), key, err)
	}
	if p := spec.GetValueFromParameter(); p != nil {
		return []record.Selector{{Task: p.GetProducerSubtask(), Key: p.GetOutputParameterKey()}}, nil
	}
	var out []record.Selector
	for _, p := range spec.GetValueFromOneof().GetParameterSelectors() {
		out = append(out, record.Selector{Task: p.GetProducerSubtask(), Key: p.GetOutputParameterKey()})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("DAG execution %d: output parameter %q has no producer", e.ID(), key)
	}
	return out, nil
}

func (e *Execution) artifactProducers(key string) ([]record.Selector, error) {
	raw := e.String(PropArtifactProducer)
	m := map[string]artifactProducer{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("DAG execution %d: output artifact mapping: %w", e.ID(), err)
		}
	}
	p, ok := m[key]
	if !ok || len(p.Selectors) == 0 {
		return nil, fmt.Errorf("DAG task %q (execution %d) declares no output artifact %q", e.TaskName(), e.ID(), key)
	}
	return p.Selectors, nil
}

// InputRefs turns an executor input's artifacts back into INPUT event
// references (one per artifact, a list gives several under one key); the
// artifacts' names are their MLMD IDs (see RuntimeArtifact).
func InputRefs(in *pipelinespec.ExecutorInput_Inputs) ([]ArtifactRef, error) {
	var refs []ArtifactRef
	for _, name := range slices.Sorted(maps.Keys(in.GetArtifacts())) {
		for _, a := range in.GetArtifacts()[name].GetArtifacts() {
			id, err := strconv.ParseInt(a.GetName(), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("input artifact %q: name %q is not an MLMD artifact ID", name, a.GetName())
			}
			refs = append(refs, ArtifactRef{Key: name, ArtifactID: id})
		}
	}
	return refs, nil
}
