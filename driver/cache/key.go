package cache

import (
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/cachekey"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// KeyInput is everything KFP's driver feeds into a container task's
// fingerprint.
type KeyInput struct {
	// Inputs are the resolved inputs of the executor input. Artifacts
	// contribute their names (MLMD IDs), parameters their values; callers
	// must leave out values that are injected after the fingerprint in KFP.
	Inputs *pipelinespec.ExecutorInput_Inputs
	// Outputs are the provisioned outputs, executor-logs included when
	// provisioned. URIs are ignored.
	Outputs *pipelinespec.ExecutorInput_Outputs
	// Component supplies the declared type of each output parameter.
	Component *pipelinespec.ComponentSpec
	// Container is the unresolved container spec: image, command, args.
	Container *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec
	// PVCNames are the mounted PVCs, in any order, duplicates allowed.
	PVCNames []string

	// CustomKey is cachingOptions.cacheKey. When set, it replaces all of the
	// above. The pinned pipelinespec module predates that field, so the
	// caller reads it from the task JSON.
	CustomKey string
	// ComponentName is task.componentRef.name; it scopes CustomKey.
	ComponentName string
}

// BuildKey assembles KFP's CacheKey message (without pvcNames, see
// canonicalJSON). It fails when an output parameter is not declared by the
// component, as KFP does.
func BuildKey(in KeyInput) (*cachekey.CacheKey, error) {
	outParams, err := outputParameterTypes(in.Outputs, in.Component)
	if err != nil {
		return nil, err
	}
	return &cachekey.CacheKey{
		InputArtifactNames:   inputArtifactNames(in.Inputs),
		InputParameterValues: inputParameterValues(in.Inputs),
		OutputArtifactsSpec:  outputArtifactSpecs(in.Outputs),
		OutputParametersSpec: outParams,
		// Always present, even if empty: KFP sets it unconditionally, and an
		// empty message still encodes as "containerSpec":{}.
		ContainerSpec: &cachekey.ContainerSpec{
			Image:   in.Container.GetImage(),
			CmdArgs: commandAndArgs(in.Container),
		},
	}, nil
}

// inputArtifactNames keeps an entry for an empty artifact list too; it
// encodes as {} and so changes the fingerprint, as in KFP.
func inputArtifactNames(inputs *pipelinespec.ExecutorInput_Inputs) map[string]*cachekey.ArtifactNameList {
	out := map[string]*cachekey.ArtifactNameList{}
	for name, list := range inputs.GetArtifacts() {
		names := make([]string, 0, len(list.GetArtifacts()))
		for _, a := range list.GetArtifacts() {
			names = append(names, a.GetName())
		}
		out[name] = &cachekey.ArtifactNameList{ArtifactNames: names}
	}
	return out
}

func inputParameterValues(inputs *pipelinespec.ExecutorInput_Inputs) map[string]*structpb.Value {
	out := map[string]*structpb.Value{}
	for name, v := range inputs.GetParameterValues() {
		out[name] = v
	}
	return out
}

// outputArtifactSpecs takes the first artifact of each non-empty list, as
// KFP does, without its URI (a fresh UUID path on every run) and without
// properties.
func outputArtifactSpecs(outputs *pipelinespec.ExecutorInput_Outputs) map[string]*pipelinespec.RuntimeArtifact {
	out := map[string]*pipelinespec.RuntimeArtifact{}
	for name, list := range outputs.GetArtifacts() {
		if len(list.GetArtifacts()) == 0 {
			continue
		}
		a := list.GetArtifacts()[0]
		out[name] = &pipelinespec.RuntimeArtifact{Name: a.GetName(), Type: a.GetType(), Metadata: a.GetMetadata()}
	}
	return out
}

// outputParameterTypes maps each provisioned output parameter to its
// declared ParameterType enum name, e.g. "STRING" or "NUMBER_DOUBLE".
func outputParameterTypes(outputs *pipelinespec.ExecutorInput_Outputs, comp *pipelinespec.ComponentSpec) (map[string]string, error) {
	declared := comp.GetOutputDefinitions().GetParameters()
	out := map[string]string{}
	for name := range outputs.GetParameters() {
		spec, ok := declared[name]
		if !ok {
			return nil, fmt.Errorf("building cache key: output parameter %q is not declared by the component", name)
		}
		out[name] = spec.GetParameterType().String()
	}
	return out, nil
}

func commandAndArgs(c *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec) []string {
	out := make([]string, 0, len(c.GetCommand())+len(c.GetArgs()))
	out = append(out, c.GetCommand()...)
	return append(out, c.GetArgs()...)
}
