package convert

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

// corpusSize is the number of workflows KFP ships in test_data/compiled-workflows.
const corpusSize = 147

type corpusFile struct {
	name          string
	in, out       []byte
	inDoc, outDoc map[string]any // decoded once; tests must not modify them
}

// loadedCorpus is one directory of compiled workflows, converted once per
// test binary.
type loadedCorpus struct {
	once  sync.Once
	files []corpusFile
	err   error
}

var corpora sync.Map // directory -> *loadedCorpus

// loadCorpus reads and converts every compiled workflow (KFP 2.x, MLMD line).
func loadCorpus(t *testing.T) []corpusFile {
	t.Helper()
	return loadCorpusDir(t, "testdata/compiled-workflows", corpusSize, nil)
}

// loadCorpusDir converts the size workflows of dir; files named in skip are
// left out (their failures are tested on their own).
func loadCorpusDir(t *testing.T, dir string, size int, skip map[string]bool) []corpusFile {
	t.Helper()
	v, _ := corpora.LoadOrStore(dir, &loadedCorpus{})
	c := v.(*loadedCorpus)
	c.once.Do(func() {
		paths, err := filepath.Glob(dir + "/*.yaml")
		if err != nil {
			c.err = err
			return
		}
		paths = slices.DeleteFunc(paths, func(p string) bool { return skip[filepath.Base(p)] })
		files := make([]corpusFile, len(paths))
		errs := parallel(len(paths), func(i int) (err error) {
			files[i].name = filepath.Base(paths[i])
			if files[i].in, err = os.ReadFile(paths[i]); err != nil {
				return err
			}
			if files[i].out, err = Workflow(files[i].in, Options{}); err != nil {
				return fmt.Errorf("%s: %w", files[i].name, err)
			}
			if files[i].inDoc, err = decode(files[i].in); err != nil {
				return err
			}
			files[i].outDoc, err = decode(files[i].out)
			return err
		})
		c.files, c.err = files, errors.Join(errs...)
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	if len(c.files) != size-len(skip) {
		t.Fatalf("%s: converted %d workflows, want %d", dir, len(c.files), size-len(skip))
	}
	return c.files
}

// parallel runs fn(0..n-1) on all CPUs (the corpus is 3.5 MB of YAML) and
// returns each call's error.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

func mustDecode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	m, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func templatesOf(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range doc["spec"].(map[string]any)["templates"].([]any) {
		out = append(out, raw.(map[string]any))
	}
	return out
}

func isDriverTemplate(t *testing.T, tmpl map[string]any) bool {
	t.Helper()
	_, ok, err := driverCommand(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestRoundTripIsByteIdentical shows that parts the conversion does not
// touch come out byte for byte as KFP wrote them.
func TestRoundTripIsByteIdentical(t *testing.T) {
	for _, f := range loadCorpus(t) {
		out, err := encode(f.inDoc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, f.in) {
			t.Errorf("%s: decode+encode changed the bytes", f.name)
		}
	}
}

// TestCorpusConverts checks every workflow: driver templates become plugin
// templates, everything else is deep-equal to the input.
func TestCorpusConverts(t *testing.T) {
	converted := 0
	for _, f := range loadCorpus(t) {
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
		}
		if drivers != 2 {
			t.Errorf("%s: %d driver templates, want 2 (system-container-driver, system-dag-driver)", f.name, drivers)
		}
		if !reflect.DeepEqual(withoutTemplates(f.inDoc), withoutTemplates(f.outDoc)) {
			t.Errorf("%s: parts outside spec.templates changed", f.name)
		}
		converted++
	}
	t.Logf("%d of %d workflows converted", converted, corpusSize)
}

// withoutTemplates is a shallow copy of doc without spec.templates.
func withoutTemplates(doc map[string]any) map[string]any {
	out := maps.Clone(doc)
	spec := maps.Clone(doc["spec"].(map[string]any))
	delete(spec, "templates")
	out["spec"] = spec
	return out
}

// checkPluginTemplate compares a converted template with its original.
func checkPluginTemplate(t *testing.T, file string, in, out map[string]any) {
	t.Helper()
	name := in["name"].(string)
	for _, field := range []string{"name", "inputs", "metadata"} {
		if !reflect.DeepEqual(in[field], out[field]) {
			t.Errorf("%s/%s: %s changed", file, name, field)
		}
	}
	var fields []string
	for k := range out {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	if got := strings.Join(fields, ","); got != "inputs,metadata,name,outputs,plugin" {
		t.Errorf("%s/%s: fields %s, want inputs,metadata,name,outputs,plugin", file, name, got)
	}
	if got, want := pluginArgs(t, out), flagsOf(t, in); !reflect.DeepEqual(got, want) {
		t.Errorf("%s/%s: args\n%v\nwant the flags without output paths\n%v", file, name, got, want)
	}
	checkOutputs(t, file+"/"+name, in["outputs"], out["outputs"])
}

func pluginArgs(t *testing.T, tmpl map[string]any) map[string]any {
	t.Helper()
	p := tmpl["plugin"].(map[string]any)
	if len(p) != 1 {
		t.Fatalf("plugin has %d keys, want only %q", len(p), plugin.PluginName)
	}
	return p[plugin.PluginName].(map[string]any)["args"].(map[string]any)
}

// flagsOf reads a KFP driver command line with a deliberately naive parser
// (independent of parseFlags): "--name=value" or "--name value".
func flagsOf(t *testing.T, tmpl map[string]any) map[string]any {
	t.Helper()
	args := tmpl["container"].(map[string]any)["args"].([]any)
	out := map[string]any{}
	for i := 0; i < len(args); i++ {
		name := strings.TrimPrefix(args[i].(string), "--")
		value := ""
		if n, v, ok := strings.Cut(name, "="); ok {
			name, value = n, v
		} else {
			i++
			value = args[i].(string)
		}
		switch name {
		case "execution_id_path", "iteration_count_path", "condition_path", "cached_decision_path", "pod_spec_patch_path",
			"parent_task_id_path":
		default:
			out[name] = value
		}
	}
	return out
}

// checkOutputs: same parameters in the same order, names and defaults kept,
// valueFrom reduced to default + supplied.
func checkOutputs(t *testing.T, where string, in, out any) {
	t.Helper()
	inP := in.(map[string]any)["parameters"].([]any)
	outP := out.(map[string]any)["parameters"].([]any)
	if len(inP) != len(outP) {
		t.Fatalf("%s: %d output parameters became %d", where, len(inP), len(outP))
	}
	for i := range inP {
		a, b := inP[i].(map[string]any), outP[i].(map[string]any)
		if a["name"] != b["name"] || !reflect.DeepEqual(a["default"], b["default"]) {
			t.Errorf("%s: output %v became %v", where, a, b)
		}
		want := map[string]any{"supplied": map[string]any{}}
		if d, ok := a["valueFrom"].(map[string]any)["default"]; ok {
			want["default"] = d
		}
		if !reflect.DeepEqual(b["valueFrom"], want) {
			t.Errorf("%s: output %q valueFrom = %v, want %v", where, a["name"], b["valueFrom"], want)
		}
	}
}

// TestCorpusIdempotent: converting a converted workflow changes no byte;
// with admin pod metadata too (on a few workflows: same code path).
func TestCorpusIdempotent(t *testing.T) {
	files := loadCorpus(t)
	errs := parallel(len(files), func(i int) error {
		if again, err := Workflow(files[i].out, Options{}); err != nil || !bytes.Equal(again, files[i].out) {
			return fmt.Errorf("%s: second conversion changed the workflow (err %v)", files[i].name, err)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Error(err)
	}
	opts := Options{}
	opts.PodMetadata.Labels = map[string]string{"team": "ml"}
	opts.PodMetadata.Annotations = map[string]string{"sidecar.istio.io/inject": "false"}
	for _, name := range []string{"add_numbers.yaml", "pipeline_with_exit_handler.yaml", "parallel_for_after_dependency.yaml"} {
		once, err := Workflow([]byte(readCorpusFile(t, name)), opts)
		if err != nil {
			t.Fatal(err)
		}
		if twice, err := Workflow(once, opts); err != nil || !bytes.Equal(once, twice) {
			t.Errorf("%s: second conversion with pod metadata changed the workflow (err %v)", name, err)
		}
	}
}
