package flow

import (
	"errors"
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// validate checks what each step needs before anything is read or written;
// errors name the offending argument. The specs of a DAG or CONTAINER step
// are checked once the backend has them (validateSpecs): the native line
// reads them from the run.
func validate(req *driver.Request) error {
	var errs []error
	need := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	need(req.Type.Valid(), "type: %q is not ROOT_DAG, DAG or CONTAINER", req.Type)
	need(req.PipelineName != "", "pipeline_name: empty")
	need(req.RunID != "", "run_id: empty")
	for _, a := range [][2]string{{"pipeline_name", req.PipelineName}, {"run_id", req.RunID}, {"task_name", req.TaskName}} {
		if err := driver.CheckPathComponent(a[1]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a[0], err))
		}
	}
	native := req.Line == driver.LineNative
	if native {
		// The run's API token is minted for run_id: only this workflow's
		// own run may be named (KFP compiles run_id as {{workflow.uid}}).
		need(req.WorkflowUID == "" || req.RunID == req.WorkflowUID, "run_id: %q is not this workflow's UID %q", req.RunID, req.WorkflowUID)
	} else {
		need(req.Component != nil, "component: missing")
		need(req.Options.MLMDAddress != "" && req.Options.MLMDPort != "", "mlmd_server_address/port: empty")
	}
	switch req.Type {
	case driver.RootDAG:
		need(req.Namespace != "", "namespace: empty")
		need(req.RuntimeConfig != nil, "runtime_config: missing")
		need(req.Task == nil || req.Task.GetTaskInfo().GetName() == "", "task: must be empty for ROOT_DAG")
		need(req.DAGExecutionID == 0, "dag_execution_id: must be 0 for ROOT_DAG, got %d", req.DAGExecutionID)
		need(req.ParentTaskID == "", "parent_task_id: must be empty for ROOT_DAG, got %q", req.ParentTaskID)
		need(req.IterationIndex < 0, "iteration_index: must be -1 for ROOT_DAG")
		need(req.Component == nil || req.Component.GetDag() != nil, "component.dag: missing, the root must be a DAG")
	case driver.DAG, driver.Container:
		need(req.TaskName != "", "task_name: empty")
		if native {
			need(req.ParentTaskID != "", "parent_task_id: empty")
		} else {
			need(req.DAGExecutionID > 0, "dag_execution_id: must be a positive MLMD execution ID, got %d", req.DAGExecutionID)
		}
	}
	if !native && req.Type != driver.RootDAG {
		errs = append(errs, validateSpecs(req)) // the MLMD line passes them: check before any read
	}
	return errors.Join(errs...)
}

// validateSpecs checks a DAG or CONTAINER step's task, component and
// container specs.
func validateSpecs(req *driver.Request) error {
	var errs []error
	need := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	need(req.Component != nil, "component: missing")
	need(req.Task != nil, "task: missing")
	need(req.Task.GetTaskInfo().GetName() != "", "task.taskInfo.name: empty")
	switch req.Type {
	case driver.DAG:
		need(req.Container == nil, "container: must be empty for DAG")
		need(req.Component == nil || req.Component.GetDag() != nil, "component.dag: missing for a DAG task")
		need(req.Task.GetArtifactIterator() == nil || req.Task.GetArtifactIterator().GetItemInput() != "",
			"task.artifactIterator.itemInput: empty")
		need(req.Task.GetParameterIterator() == nil || req.Task.GetParameterIterator().GetItemInput() != "",
			"task.parameterIterator.itemInput: empty")
	case driver.Container:
		need(req.Container != nil, "container: missing for CONTAINER")
		need(req.Container.GetImage() != "", "container.image: empty")
	}
	return errors.Join(errs...)
}
