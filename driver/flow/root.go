package flow

import (
	"context"
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/pipelineroot"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
)

// rootDAG records the run and its root DAG.
func (s *Service) rootDAG(ctx context.Context, b record.Backend, req *driver.Request) (*driver.Result, error) {
	cfg, err := pipelineroot.Load(ctx, s.deps.Kube, req.Namespace)
	if err != nil {
		return nil, err
	}
	root, session, err := pipelineroot.Resolve(req.RuntimeConfig.GetGcsOutputDirectory(), cfg)
	if err != nil {
		return nil, fmt.Errorf("runtime_config.gcsOutputDirectory: %w", err)
	}
	runRoot := pipelineroot.ForRun(root, req.PipelineName, req.RunID)
	w, err := b.Root(ctx, req, record.Root{PipelineRoot: runRoot, StoreSessionInfo: session})
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("root: %s, %d inputs, pipeline root %s", w.Task.Label(), len(req.RuntimeConfig.GetParameterValues()), runRoot)
	r := result(w)
	r.IterationCount = ptr(0)
	return withMessage(r, again(msg, w.Created)), nil
}

// again marks the message of a repeated call that found its record.
func again(msg string, created bool) string {
	if created {
		return msg
	}
	return msg + " (existing, repeated call)"
}
