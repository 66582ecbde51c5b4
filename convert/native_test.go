package convert

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// The native line's corpus: what KFP master compiles (see
// testdata/native/README.md). One file is stale upstream: it still carries
// KFP 2.x's spec flags next to the native ones.
const (
	nativeDir   = "testdata/native/compiled-workflows"
	nativeSize  = 123
	nativeStale = "ray_job_integration_compiled.yaml"
)

func loadNativeCorpus(t *testing.T) []corpusFile {
	t.Helper()
	return loadCorpusDir(t, nativeDir, nativeSize, map[string]bool{nativeStale: true})
}

// TestNativeCorpusConverts checks every native workflow as TestCorpusConverts
// does the MLMD ones, plus what is particular to the line: the namespace
// stays the $(NAMESPACE) reference, and the DAG driver's task ID output is
// declared for the reply.
func TestNativeCorpusConverts(t *testing.T) {
	converted := 0
	for _, f := range loadNativeCorpus(t) {
		if !bytes.Equal(mustEncode(t, f.inDoc), f.in) {
			t.Errorf("%s: decode+encode changed the bytes", f.name)
		}
		inT, outT := templatesOf(t, f.inDoc), templatesOf(t, f.outDoc)
		if len(inT) != len(outT) {
			t.Fatalf("%s: %d templates became %d", f.name, len(inT), len(outT))
		}
		drivers := 0
		for i := range inT {
			if !isDriverTemplate(t, inT[i]) {
				if !reflect.DeepEqual(inT[i], outT[i]) {
					t.Errorf("%s: non-driver template %q changed", f.name, inT[i]["name"])
				}
				continue
			}
			drivers++
			checkPluginTemplate(t, f.name, inT[i], outT[i])
			args := pluginArgs(t, outT[i])
			if args["namespace"] != "$(NAMESPACE)" || args["parent_task_id"] != "{{inputs.parameters.parent-dag-task-id}}" {
				t.Errorf("%s/%s: namespace %v, parent_task_id %v", f.name, outT[i]["name"], args["namespace"], args["parent_task_id"])
			}
			if outT[i]["name"] == "system-dag-driver" && !declares(outT[i], "parent-dag-task-id-path") {
				t.Errorf("%s: system-dag-driver does not declare parent-dag-task-id-path", f.name)
			}
		}
		if drivers != 2 {
			t.Errorf("%s: %d driver templates, want 2", f.name, drivers)
		}
		if !reflect.DeepEqual(withoutTemplates(f.inDoc), withoutTemplates(f.outDoc)) {
			t.Errorf("%s: parts outside spec.templates changed", f.name)
		}
		// The driver pod's token and launcher-config volumes, their mounts
		// and its env are gone with the container: a plugin node has no pod.
		for _, gone := range []string{"kfp-launcher-token", "kfp-launcher-config", "KFP_POD_UID"} {
			for _, tmpl := range outT {
				if _, ok := tmpl["plugin"]; ok && strings.Contains(fmt.Sprint(tmpl), gone) {
					t.Errorf("%s/%s: still mentions %s", f.name, tmpl["name"], gone)
				}
			}
		}
		converted++
	}
	t.Logf("%d of %d native workflows converted (%s refused, see TestNativeStaleWorkflowRefused)", converted, nativeSize, nativeStale)
}

func mustEncode(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	b, err := encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func declares(tmpl map[string]any, name string) bool {
	for _, p := range params(tmpl["outputs"]) {
		if p["name"] == name {
			return reflect.DeepEqual(p["valueFrom"], map[string]any{"supplied": map[string]any{}})
		}
	}
	return false
}

// TestNativeCorpusIdempotent: converting a converted native workflow
// changes no byte.
func TestNativeCorpusIdempotent(t *testing.T) {
	files := loadNativeCorpus(t)
	errs := parallel(len(files), func(i int) error {
		if again, err := Workflow(files[i].out, Options{}); err != nil || !bytes.Equal(again, files[i].out) {
			return fmt.Errorf("%s: second conversion changed the workflow (err %v)", files[i].name, err)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Error(err)
	}
}

// TestNativeStaleWorkflowRefused: the stale upstream file passes KFP 2.x's
// spec flags to the native driver, which defines none of them; converting it
// would give calls neither driver can run.
func TestNativeStaleWorkflowRefused(t *testing.T) {
	in, err := os.ReadFile(nativeDir + "/" + nativeStale)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Workflow(in, Options{})
	want := `template "system-container-driver": --component, --container, --task (KFP 2.x's ML Metadata driver) and --parent_task_id (KFP master's native driver) in one call`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestNativeCorpusCallsDecode plays every native call site as
// TestCorpusCallsDecode does, and decodes it as the plugin will.
func TestNativeCorpusCallsDecode(t *testing.T) {
	calls := decodeCalls(t, loadNativeCorpus(t), driver.LineNative)
	t.Logf("decoded native driver calls: %v", calls)
}

// TestNativeCorpusPassesArgoValidation: the converted native workflows are
// valid for Argo v3 too (argov4/ checks them with v4).
func TestNativeCorpusPassesArgoValidation(t *testing.T) {
	files := loadNativeCorpus(t)
	valid := 0
	for _, f := range files {
		if err := argoValidate(f.out); err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		valid++
	}
	t.Logf("%d of %d converted native workflows pass Argo v3 validation", valid, len(files))
}

// TestKeepNativeLine: with KeepNativeLine a native workflow is left exactly
// as it is and its driver templates are named; an MLMD one converts as
// without the option.
func TestKeepNativeLine(t *testing.T) {
	in, err := os.ReadFile(nativeDir + "/add_numbers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := mustDecode(t, in)
	opts := Options{KeepNativeLine: true}
	opts.PodMetadata.Labels = map[string]string{"team": "ml"}
	res, err := Object(doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || !reflect.DeepEqual(res.NativeLine, []string{"system-container-driver", "system-dag-driver"}) {
		t.Errorf("result %+v", res)
	}
	if !bytes.Equal(mustEncode(t, doc), in) {
		t.Error("the native workflow was changed")
	}
	mlmd := mustDecode(t, []byte(readCorpusFile(t, "add_numbers.yaml")))
	if res, err := Object(mlmd, opts); err != nil || len(res.Names) != 2 || res.NativeLine != nil {
		t.Errorf("MLMD workflow: %+v, %v", res, err)
	}
}
