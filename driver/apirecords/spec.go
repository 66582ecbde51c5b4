package apirecords

import (
	"context"
	"fmt"
	"strings"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// runSpec is a run's stored pipeline spec, decoded once per run and
// process: the native line passes no specs to the driver, each call finds
// its task by the parent's scope path.
type runSpec struct {
	spec      *pipelinespec.PipelineSpec
	executors map[string]*pipelinespec.PipelineDeploymentConfig_ExecutorSpec
}

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

// ReadSpec reads a run and its stored pipeline spec: the run's own, or that
// of the pipeline version it was created from. The driver and the launcher
// stand-ins (kfpapi/publish) read runs this way.
func ReadSpec(ctx context.Context, c *kfpapi.Client, runID string) (*pb.Run, *pipelinespec.PipelineSpec, error) {
	run, err := c.GetRun(ctx, runID)
	if err != nil {
		return nil, nil, fmt.Errorf("run_id: %w", err)
	}
	s := run.GetPipelineSpec()
	if ref := run.GetPipelineVersionReference(); s == nil && ref != nil {
		v, err := c.GetPipelineVersion(ctx, runID, ref)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: pipeline version: %w", runID, err)
		}
		s = v.GetPipelineSpec()
	}
	spec, err := decodePipelineSpec(s)
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", runID, err)
	}
	return run, spec, nil
}

func decodePipelineSpec(s *structpb.Struct) (*pipelinespec.PipelineSpec, error) {
	if s == nil {
		return nil, fmt.Errorf("the run has no pipeline spec")
	}
	b, err := protojson.Marshal(s)
	if err != nil {
		return nil, err
	}
	spec := &pipelinespec.PipelineSpec{}
	if err := lenient.Unmarshal(b, spec); err != nil {
		return nil, fmt.Errorf("pipeline spec: %w", err)
	}
	return spec, nil
}

// indexSpec decodes a spec's executors once, for every call of the run.
func indexSpec(spec *pipelinespec.PipelineSpec) (*runSpec, error) {
	deploy := &pipelinespec.PipelineDeploymentConfig{}
	if d := spec.GetDeploymentSpec(); d != nil {
		b, err := protojson.Marshal(d)
		if err == nil {
			err = lenient.Unmarshal(b, deploy)
		}
		if err != nil {
			return nil, fmt.Errorf("pipeline spec deploymentSpec: %w", err)
		}
	}
	return &runSpec{spec: spec, executors: deploy.GetExecutors()}, nil
}

// rootScope is the scope path of the root DAG, as KFP writes it.
const rootScope = "root"

// component is the component a scope path ("root.outer.for-loop-2") runs.
func (r *runSpec) component(scope string) (*pipelinespec.ComponentSpec, error) {
	return ComponentAt(r.spec, scope)
}

// ComponentAt is the component of spec a scope path ("root.outer.for-loop-2",
// KFP's notation) runs.
func ComponentAt(spec *pipelinespec.PipelineSpec, scope string) (*pipelinespec.ComponentSpec, error) {
	names := strings.Split(scope, ".")
	if names[0] != rootScope {
		return nil, fmt.Errorf("scope path %q does not start at %q", scope, rootScope)
	}
	comp := spec.GetRoot()
	for _, name := range names[1:] {
		task, ok := comp.GetDag().GetTasks()[name]
		if !ok {
			return nil, fmt.Errorf("scope path %q: no task %q", scope, name)
		}
		if comp, ok = spec.GetComponents()[task.GetComponentRef().GetName()]; !ok {
			return nil, fmt.Errorf("scope path %q: task %q runs component %q, which the spec lacks", scope, name, task.GetComponentRef().GetName())
		}
	}
	return comp, nil
}

// child is what runs task name of the DAG at scope: the task, its
// component and, for a container task, its container.
type child struct {
	task      *pipelinespec.PipelineTaskSpec
	comp      *pipelinespec.ComponentSpec
	container *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec
	importer  bool
}

func (r *runSpec) child(scope, name string) (*child, error) {
	dag, err := r.component(scope)
	if err != nil {
		return nil, err
	}
	task, ok := dag.GetDag().GetTasks()[name]
	if !ok {
		return nil, fmt.Errorf("task_name: the DAG at scope %q has no task %q", scope, name)
	}
	comp, ok := r.spec.GetComponents()[task.GetComponentRef().GetName()]
	if !ok {
		return nil, fmt.Errorf("task %q runs component %q, which the spec lacks", name, task.GetComponentRef().GetName())
	}
	c := &child{task: task, comp: comp}
	if label := comp.GetExecutorLabel(); label != "" {
		exec := r.executors[label]
		c.container, c.importer = exec.GetContainer(), exec.GetImporter() != nil
	}
	return c, nil
}
