package standin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// importer registers the imported artifact, as KFP's launcher does in
// importer mode, from the flags of the importer template.
func importer(ctx context.Context, c *clients, flags map[string]string) error {
	task, comp, spec := &pipelinespec.PipelineTaskSpec{}, &pipelinespec.ComponentSpec{}, &pipelinespec.PipelineDeploymentConfig_ImporterSpec{}
	for flag, m := range map[string]proto.Message{"--task_spec": task, "--component_spec": comp, "--importer_spec": spec} {
		if err := lenient.Unmarshal([]byte(flags[flag]), m); err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
	}
	parentID, err := strconv.ParseInt(flags["--parent_dag_id"], 10, 64)
	if err != nil {
		return fmt.Errorf("--parent_dag_id: %w", err)
	}
	run, err := c.mlmd.RunOf(ctx, flags["--pipeline_name"], flags["--run_id"], parentID)
	if err != nil {
		return err
	}
	parent, err := c.mlmd.ExecutionByID(ctx, parentID)
	if err != nil {
		return err
	}
	key := "artifact"
	for k := range comp.GetOutputDefinitions().GetArtifacts() {
		key = k
	}
	l := &drivertest.Launcher{MLMD: c.mlmd, Namespace: c.ns}
	return l.Import(ctx, run, parent, task, spec, key)
}
