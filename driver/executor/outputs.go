// Package executor builds what a container task's pod receives: the
// executor input (resolved inputs plus provisioned outputs) and the pod
// spec patch for KFP's executor template, whose "main" container runs the
// KFP launcher wrapped around the user command.
package executor

import (
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
)

// LogsArtifact is the extra output the launcher uploads the task's logs to.
const LogsArtifact = "executor-logs"

// Outputs provisions a task's outputs under
// <run root>/<task>/<unique>: one URI per output artifact (plus
// executor-logs when logs are published), a local file per output parameter
// and the executor output file in the local mirror of the task root.
func Outputs(comp *pipelinespec.ComponentSpec, runRoot, taskName, unique string, publishLogs bool) *pipelinespec.ExecutorInput_Outputs {
	root := strings.TrimRight(stripQuery(runRoot), "/") + "/" + taskName + "/" + unique
	out := &pipelinespec.ExecutorInput_Outputs{
		Parameters: map[string]*pipelinespec.ExecutorInput_OutputParameter{},
		Artifacts:  map[string]*pipelinespec.ArtifactList{},
		OutputFile: localPath(root) + "/output_metadata.json",
	}
	for name, def := range comp.GetOutputDefinitions().GetArtifacts() {
		out.Artifacts[name] = &pipelinespec.ArtifactList{Artifacts: []*pipelinespec.RuntimeArtifact{{
			Name: name, Uri: root + "/" + name, Type: def.GetArtifactType(), Metadata: def.GetMetadata(),
		}}}
	}
	if publishLogs {
		out.Artifacts[LogsArtifact] = &pipelinespec.ArtifactList{Artifacts: []*pipelinespec.RuntimeArtifact{{
			Name: LogsArtifact, Uri: root + "/" + LogsArtifact,
			Type: &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: "system.Artifact"}},
		}}}
	}
	for name := range comp.GetOutputDefinitions().GetParameters() {
		out.Parameters[name] = &pipelinespec.ExecutorInput_OutputParameter{OutputFile: "/tmp/kfp/outputs/" + name}
	}
	return out
}

func stripQuery(uri string) string {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		return uri[:i]
	}
	return uri
}

// localPath is where the launcher mirrors a remote URI inside the pod.
func localPath(uri string) string {
	for _, m := range [][2]string{{"gs://", "/gcs/"}, {"s3://", "/s3/"}, {"minio://", "/minio/"}} {
		if rest, ok := strings.CutPrefix(uri, m[0]); ok {
			return m[1] + rest
		}
	}
	if rest, ok := strings.CutPrefix(uri, "oci://"); ok {
		return "/oci/" + strings.ReplaceAll(rest, "/", "_") + "/models"
	}
	return "/tmp/kfp_outputs"
}
