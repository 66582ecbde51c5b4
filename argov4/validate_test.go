package argov4

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/templateresolution"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
)

// noTemplates resolves no WorkflowTemplate, as `argo lint --offline` given
// one file.
type noTemplates struct{}

func (noTemplates) Get(_ context.Context, name string) (*wfv1.WorkflowTemplate, error) {
	return nil, fmt.Errorf("no WorkflowTemplate %q offline", name)
}

// argoValidate is converttest.ArgoValidate with v4: the strict parser of
// `argo lint`, then ValidateWorkflow as the controller calls it. v4 logs
// through a logger it requires in the context.
func argoValidate(doc []byte) error {
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, os.Stderr))
	objs := common.ParseObjects(ctx, doc, true)
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
	err := validate.ValidateWorkflow(ctx, noTemplates{}, &templateresolution.NullClusterWorkflowTemplateGetter{}, wf, nil, validate.ValidateOpts{})
	if err != nil {
		return fmt.Errorf("ValidateWorkflow: %w", err)
	}
	return nil
}

// corpus converts every workflow of dir but those in skip.
func corpus(t *testing.T, dir string, want int, skip string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		if filepath.Base(p) == skip {
			continue
		}
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if out[filepath.Base(p)], err = convert.Workflow(in, convert.Options{}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if len(out) != want {
		t.Fatalf("%s: %d workflows, want %d", dir, len(out), want)
	}
	return out
}

// TestNativeCorpusPassesArgoV4Validation: every converted workflow of KFP
// master (all but the stale one convert refuses) is valid for Argo v4.
func TestNativeCorpusPassesArgoV4Validation(t *testing.T) {
	checkCorpus(t, corpus(t, "../convert/testdata/native/compiled-workflows", 122, "ray_job_integration_compiled.yaml"))
}

// TestMLMDCorpusPassesArgoV4Validation: KFP 2.x's converted workflows too,
// for installs that upgrade Argo before KFP.
func TestMLMDCorpusPassesArgoV4Validation(t *testing.T) {
	checkCorpus(t, corpus(t, "../convert/testdata/compiled-workflows", 147, ""))
}

func checkCorpus(t *testing.T, files map[string][]byte) {
	t.Helper()
	valid := 0
	for name, doc := range files { // ValidateWorkflow shares global state: one at a time
		if err := argoValidate(doc); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		valid++
	}
	t.Logf("%d of %d converted workflows pass Argo v4 validation", valid, len(files))
}

// TestArgoV4OutputForms: v4 still rejects an output parameter with only a
// default, and accepts the supplied form convert declares.
func TestArgoV4OutputForms(t *testing.T) {
	for _, tc := range []struct{ param, want string }{
		{`valueFrom: {default: "0", supplied: {}}`, ""},
		{`valueFrom: {supplied: {}}`, ""},
		{`valueFrom: {default: "0"}`, "valueFrom type unspecified"},
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
  - name: p
    plugin: {driver-plugin: {args: {type: DAG, namespace: $(NAMESPACE)}}}
    outputs:
      parameters:
      - name: parent-dag-task-id-path
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
