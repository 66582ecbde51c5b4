package convert

import (
	"fmt"
	"strings"
	"testing"

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

// argoValidate runs what Argo itself runs on a workflow: the strict parser
// of `argo lint`, then ValidateWorkflow as the controller calls it before
// running a workflow. `argo lint --offline` calls it with Lint set, which
// only additionally allows spec.arguments without values: the controller's
// call is the stricter one.
func argoValidate(doc []byte) error {
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

// TestCorpusPassesArgoValidation validates all 147 converted workflows with
// Argo's own code.
func TestCorpusPassesArgoValidation(t *testing.T) {
	files := loadCorpus(t)
	errs := make([]error, len(files))
	for i, f := range files { // ValidateWorkflow shares global state: one at a time
		errs[i] = argoValidate(f.out)
	}
	valid := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", files[i].name, err)
			continue
		}
		valid++
	}
	t.Logf("%d of %d converted workflows pass Argo validation", valid, len(files))
}

// TestArgoOutputForms records why outputs are declared with supplied: Argo
// rejects an output parameter that has only a default, on any template type.
func TestArgoOutputForms(t *testing.T) {
	for _, tc := range []struct {
		param string
		want  string // "" = valid
	}{
		{`valueFrom: {default: "0", supplied: {}}`, ""},
		{`valueFrom: {supplied: {}}`, ""},
		{`valueFrom: {default: "0", path: /tmp/outputs/x}`, ""}, // allowed, but names a file of no pod
		{`valueFrom: {default: "0"}`, "valueFrom type unspecified"},
		{`default: "0"`, "does not have valueFrom or value specified"},
	} {
		doc := strings.ReplaceAll(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: x-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: p}
      - {name: b, template: p, depends: a.Succeeded, arguments: {parameters: [{name: in, value: "{{tasks.a.outputs.parameters.x}}"}]}}
  - name: p
    inputs: {parameters: [{name: in, default: ""}]}
    plugin: {driver-plugin: {args: {type: DAG}}}
    outputs:
      parameters:
      - name: x
        PARAM
`, "PARAM", tc.param)
		err := argoValidate([]byte(doc))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.param, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.param, err, tc.want)
		}
	}
}
