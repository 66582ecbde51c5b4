package convert

import (
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert/converttest"
)

// argoValidate is Argo's own validation (see converttest.ArgoValidate).
var argoValidate = converttest.ArgoValidate

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
