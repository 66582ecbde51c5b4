package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// Executions reads back every MLMD execution the drivers recorded for
// the run of wf, root first, then DAG by DAG. Nil when the root DAG driver
// never ran.
func (s *Stack) Executions(ctx context.Context, wf *wfv1.Workflow) ([]*mlmd.Execution, error) {
	c := s.mlmd
	root, err := c.ExecutionByName(ctx, mlmd.DAGExecutionType, mlmd.RootExecutionName(string(wf.UID)))
	if err != nil || root == nil {
		return nil, err
	}
	name, err := pipelineName(wf)
	if err != nil {
		return nil, err
	}
	run, err := c.RunOf(ctx, name, string(wf.UID), root.ID())
	if err != nil {
		return nil, err
	}
	all := []*mlmd.Execution{root}
	for dags := []int64{root.ID()}; len(dags) > 0; {
		children, err := c.ChildrenOf(ctx, run, dags)
		if err != nil {
			return nil, err
		}
		dags = nil
		for _, e := range children {
			all = append(all, e)
			if e.IsDAG() {
				dags = append(dags, e.ID())
			}
		}
	}
	return all, nil
}

// pipelineName is the pipeline_name argument of the workflow's driver
// plugin templates.
func pipelineName(wf *wfv1.Workflow) (string, error) {
	for _, t := range wf.Spec.Templates {
		if t.Plugin == nil {
			continue
		}
		b, err := json.Marshal(t.Plugin)
		if err != nil {
			return "", err
		}
		var p map[string]struct {
			Args map[string]any `json:"args"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return "", fmt.Errorf("plugin template %s: %w", t.Name, err)
		}
		for _, v := range p {
			if n, ok := v.Args["pipeline_name"].(string); ok && n != "" {
				return n, nil
			}
		}
	}
	return "", fmt.Errorf("workflow %s has no driver template with a pipeline_name", wf.Name)
}

// ByTask picks the executions of one task.
func ByTask(execs []*mlmd.Execution, task string) []*mlmd.Execution {
	var out []*mlmd.Execution
	for _, e := range execs {
		if e.TaskName() == task {
			out = append(out, e)
		}
	}
	return out
}

// InputURIs lists the URIs of the artifacts linked to an execution by
// INPUT events, sorted.
func (s *Stack) InputURIs(ctx context.Context, execID int64) ([]string, error) {
	linked, err := s.mlmd.Artifacts(ctx, execID)
	if err != nil {
		return nil, err
	}
	var uris []string
	for _, l := range linked[execID] {
		if l.Event == pb.Event_INPUT {
			uris = append(uris, l.Artifact.GetUri())
		}
	}
	sort.Strings(uris)
	return uris, nil
}
