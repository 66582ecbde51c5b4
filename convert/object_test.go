package convert

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// TestObjectReportsChanges: Object names exactly the driver templates it
// replaced (what the webhook patches and records), and a converted workflow
// converts to no change.
func TestObjectReportsChanges(t *testing.T) {
	for _, f := range loadCorpus(t) {
		doc := mustDecode(t, f.in)
		res, err := Object(doc, Options{})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		templates := f.inDoc["spec"].(map[string]any)["templates"].([]any)
		var want []int
		for i, raw := range templates {
			if _, isDriver, _ := driverCommand(raw.(map[string]any)); isDriver {
				want = append(want, i)
			}
		}
		if !reflect.DeepEqual(res.Templates, want) || len(res.Names) != len(want) || res.PodMetadata {
			t.Errorf("%s: result %+v, want templates %v", f.name, res, want)
		}
		if !reflect.DeepEqual(doc, f.outDoc) {
			t.Errorf("%s: Object and Workflow disagree", f.name)
		}
		again, err := Object(doc, Options{})
		if err != nil || again.Changed() {
			t.Errorf("%s: second conversion: %+v, %v", f.name, again, err)
		}
	}
}

// TestObjectWithoutDriverTemplates: nothing to do is no change, and the tree
// is untouched (input keys sorted, as json.Marshal writes them).
func TestObjectWithoutDriverTemplates(t *testing.T) {
	in := []byte(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"x-"},` +
		`"spec":{"entrypoint":"main","templates":[{"container":{"command":["echo"],"image":"busybox"},"name":"main"}]}}`)
	doc := mustDecode(t, in)
	res, err := Object(doc, Options{})
	if err != nil || res.Changed() {
		t.Fatalf("result %+v, err %v", res, err)
	}
	out, _ := json.Marshal(doc)
	if !bytes.Equal(out, in) {
		t.Errorf("tree changed:\n%s\nwant\n%s", out, in)
	}
	res, err = Object(doc, Options{PodMetadata: pluginconfig.PodMetadata{Labels: map[string]string{"a": "1"}}})
	if err != nil || !res.PodMetadata || len(res.Templates) != 0 {
		t.Errorf("with pod metadata: %+v, %v", res, err)
	}
}
