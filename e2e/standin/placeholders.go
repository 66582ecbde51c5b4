package standin

import (
	"regexp"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
)

// The placeholders the driver leaves to the launcher: output files and
// paths, input artifact paths and URIs, and the whole executor input.
var launcherPlaceholder = regexp.MustCompile(`\{\{\$(\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\](\.(output_file|path|uri))?)?\}\}`)

// resolvePlaceholders substitutes them in the user command, as KFP's
// launcher does before it runs the command; unknown names stay as they are.
func resolvePlaceholders(cmd []string, in *pipelinespec.ExecutorInput) []string {
	out := make([]string, len(cmd))
	for i, arg := range cmd {
		out[i] = launcherPlaceholder.ReplaceAllStringFunc(arg, func(m string) string {
			g := launcherPlaceholder.FindStringSubmatch(m)
			if g[1] == "" {
				b, _ := protojson.Marshal(in)
				return string(b)
			}
			if v, ok := placeholderValue(in, g[2], g[3], g[4], g[6]); ok {
				return v
			}
			return m
		})
	}
	return out
}

func placeholderValue(in *pipelinespec.ExecutorInput, side, kind, name, field string) (string, bool) {
	switch {
	case side == "inputs" && kind == "parameters" && field == "":
		// The driver leaves input values inside an argument that also
		// names an output to the launcher, as KFP's driver leaves all.
		v, ok := in.GetInputs().GetParameterValues()[name]
		if !ok {
			return "", false
		}
		if s, isString := v.GetKind().(*structpb.Value_StringValue); isString {
			return s.StringValue, true
		}
		b, _ := protojson.Marshal(v)
		return string(b), true
	case side == "outputs" && kind == "parameters" && field == "output_file":
		p, ok := in.GetOutputs().GetParameters()[name]
		return p.GetOutputFile(), ok
	case kind == "artifacts":
		list := in.GetInputs().GetArtifacts()[name]
		if side == "outputs" {
			list = in.GetOutputs().GetArtifacts()[name]
		}
		if len(list.GetArtifacts()) == 0 {
			return "", false
		}
		uri := list.GetArtifacts()[0].GetUri()
		if field == "uri" {
			return uri, true
		}
		return executor.LocalPath(uri), true
	}
	return "", false
}
