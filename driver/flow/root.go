package flow

import (
	"context"
	"fmt"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/pipelineroot"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// rootDAG creates the run's contexts and its root DAG execution.
func (s *Service) rootDAG(ctx context.Context, client *mlmd.Client, req *driver.Request) (*driver.Result, error) {
	cfg, err := pipelineroot.Load(ctx, s.deps.Kube, req.Namespace)
	if err != nil {
		return nil, err
	}
	root, session, err := pipelineroot.Resolve(req.RuntimeConfig.GetGcsOutputDirectory(), cfg)
	if err != nil {
		return nil, fmt.Errorf("runtime_config.gcsOutputDirectory: %w", err)
	}
	run, err := client.EnsureRun(ctx, mlmd.RunSpec{
		PipelineName: req.PipelineName, RunID: req.RunID, Namespace: req.Namespace,
		PipelineRoot:     pipelineroot.ForRun(root, req.PipelineName, req.RunID),
		StoreSessionInfo: session,
	})
	if err != nil {
		return nil, err
	}
	props := map[string]*pb.Value{
		mlmd.PropDisplayName: mlmd.StringValue(""),
		mlmd.PropTaskName:    mlmd.StringValue(""),
	}
	if params := req.RuntimeConfig.GetParameterValues(); len(params) > 0 {
		props[mlmd.PropInputs] = mlmd.StructValue(params)
	}
	withLogURI(props, s.logRoot(run.PipelineRoot), mlmd.RootExecutionName(req.RunID))
	exec, created, err := client.CreateExecution(ctx, run, mlmd.NewExecution{
		TypeName: mlmd.DAGExecutionType, Name: mlmd.RootExecutionName(req.RunID),
		State: pb.Execution_RUNNING, Props: props,
	})
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("root: execution %d, %d inputs, pipeline root %s", exec.ID(), len(inputsOf(props)), run.PipelineRoot)
	return &driver.Result{ExecutionID: exec.ID(), IterationCount: ptr(0), Message: again(msg, created),
		LogURI: exec.String(mlmd.PropDriverLogsURI)}, nil
}

func inputsOf(props map[string]*pb.Value) map[string]*structpb.Value {
	return props[mlmd.PropInputs].GetStructValue().GetFields()
}

// again marks the message of a repeated call that found its execution.
func again(msg string, created bool) string {
	if created {
		return msg
	}
	return msg + " (existing, repeated call)"
}
