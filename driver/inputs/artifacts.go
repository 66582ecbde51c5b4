package inputs

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// WorkspaceMetadataKey marks an artifact an importer placed in the
// pipeline workspace; the pod then mounts the workspace.
const WorkspaceMetadataKey = "_kfp_workspace"

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

// ArtifactRefs turns an executor input's artifacts back into INPUT event
// references (one per artifact, a list gives several under one key).
func ArtifactRefs(in *pipelinespec.ExecutorInput_Inputs) ([]mlmd.ArtifactRef, error) {
	var refs []mlmd.ArtifactRef
	for _, name := range slices.Sorted(maps.Keys(in.GetArtifacts())) {
		for _, a := range in.GetArtifacts()[name].GetArtifacts() {
			id, err := strconv.ParseInt(a.GetName(), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("input artifact %q: name %q is not an MLMD artifact ID", name, a.GetName())
			}
			refs = append(refs, mlmd.ArtifactRef{Key: name, ArtifactID: id})
		}
	}
	return refs, nil
}
