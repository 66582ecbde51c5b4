// Package converttest validates workflows with Argo's own code, for the
// tests of convert and of the admission webhook (one copy of the check).
package converttest

import (
	"fmt"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/workflow/common"
	"github.com/argoproj/argo-workflows/v3/workflow/templateresolution"
	"github.com/argoproj/argo-workflows/v3/workflow/validate"
)

// noTemplates resolves no WorkflowTemplate: KFP workflows reference none,
// and `argo lint --offline` given one file has none to offer either.
type noTemplates struct{}

func (noTemplates) Get(name string) (*wfv1.WorkflowTemplate, error) {
	return nil, fmt.Errorf("no WorkflowTemplate %q offline", name)
}

// ArgoValidate runs what Argo itself runs on a workflow (YAML or JSON): the
// strict parser of `argo lint`, then ValidateWorkflow as the controller
// calls it before running a workflow. `argo lint --offline` calls it with
// Lint set, which only additionally allows spec.arguments without values:
// the controller's call is the stricter one. ValidateWorkflow shares global
// state: call it from one goroutine at a time.
func ArgoValidate(doc []byte) error {
	objs := common.ParseObjects(doc, true)
	if len(objs) != 1 {
		return fmt.Errorf("parsed %d objects, want 1", len(objs))
	}
	if objs[0].Err != nil {
		return fmt.Errorf("strict parse: %w", objs[0].Err)
	}
	wf, ok := objs[0].Object.(*wfv1.Workflow)
	if !ok {
		return fmt.Errorf("parsed a %T, want a Workflow", objs[0].Object)
	}
	err := validate.ValidateWorkflow(noTemplates{}, &templateresolution.NullClusterWorkflowTemplateGetter{}, wf, nil, validate.ValidateOpts{})
	if err != nil {
		return fmt.Errorf("ValidateWorkflow: %w", err)
	}
	return nil
}
