package convert

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

// TestCorpusCallsDecode plays Argo's substitution for every task that calls
// a converted driver template (its arguments over the template's input
// defaults, then the template's {{...}} placeholders), with made-up values
// only for what exists at run time (workflow uid, upstream outputs, loop
// item), and decodes the resulting args exactly as the plugin will.
func TestCorpusCallsDecode(t *testing.T) {
	calls := decodeCalls(t, loadCorpus(t), driver.LineMLMD)
	t.Logf("decoded driver calls: %v", calls)
}

// decodeCalls decodes every plugin call of files, which must all be of
// line, and counts them per driver type.
func decodeCalls(t *testing.T, files []corpusFile, line driver.Line) map[driver.Type]int {
	t.Helper()
	calls := map[driver.Type]int{}
	for _, f := range files {
		w := newCallSim(t, f.outDoc)
		for _, c := range w.pluginCalls() {
			req, unknown, err := plugin.DecodeArgs(c.args)
			if err == nil {
				err = plugin.BindNamespace(req, "kubeflow")
			}
			switch {
			case err != nil:
				t.Errorf("%s: task %q: %v", f.name, c.task, err)
			case len(unknown) > 0:
				t.Errorf("%s: task %q: args unknown to the plugin: %v", f.name, c.task, unknown)
			case (c.task == "root-driver") != (req.Type == driver.RootDAG):
				t.Errorf("%s: task %q decoded as %s", f.name, c.task, req.Type)
			case req.Line != line:
				t.Errorf("%s: task %q decoded as line %q, want %q", f.name, c.task, req.Line, line)
			default:
				calls[req.Type]++
			}
		}
	}
	for _, typ := range []driver.Type{driver.RootDAG, driver.DAG, driver.Container} {
		if calls[typ] == 0 {
			t.Errorf("no %s call decoded", typ)
		}
	}
	return calls
}

// Values for what only exists at run time.
var runtimeValues = map[string]string{
	"workflow.uid":               "6f1d3c2e-0000-4000-8000-000000000001",
	"workflow.name":              "wf-abcde",
	"workflow.creationTimestamp": "2026-01-02T03:04:05Z",
	"item":                       "0",
}

var upstreamOutputs = map[string]string{
	"execution-id": "7", "iteration-count": "3", "condition": "true",
	"cached-decision": "false", "pod-spec-patch": "", "parent-dag-task-id-path": "task-7",
}

// dagInputs are what a DAG template receives from its caller at run time.
var dagInputs = map[string]string{"parent-dag-id": "5", "iteration-index": "1", "condition": "true", "parent-dag-task-id": "task-5"}

var placeholder = regexp.MustCompile(`\{\{\s*([^{}]+?)\s*\}\}`)

type callSim struct {
	t         *testing.T
	globals   map[string]string
	templates map[string]map[string]any
}

type pluginCall struct {
	task string
	args map[string]json.RawMessage
}

func newCallSim(t *testing.T, doc map[string]any) *callSim {
	w := &callSim{t: t, globals: map[string]string{}, templates: map[string]map[string]any{}}
	spec := doc["spec"].(map[string]any)
	for _, p := range params(spec["arguments"]) {
		w.globals["workflow.parameters."+p["name"].(string)] = fmt.Sprint(p["value"])
	}
	for _, tmpl := range templatesOf(t, doc) {
		w.templates[tmpl["name"].(string)] = tmpl
	}
	return w
}

// pluginCalls lists every DAG task that calls a plugin template, with the
// args Argo would send.
func (w *callSim) pluginCalls() []pluginCall {
	var out []pluginCall
	for _, tmpl := range w.templates {
		dag, ok := tmpl["dag"].(map[string]any)
		if !ok {
			continue
		}
		for _, raw := range dag["tasks"].([]any) {
			task := raw.(map[string]any)
			callee := w.templates[task["template"].(string)]
			if _, ok := callee["plugin"]; ok {
				out = append(out, pluginCall{task["name"].(string), w.args(task, callee)})
			}
		}
	}
	return out
}

func (w *callSim) args(task, callee map[string]any) map[string]json.RawMessage {
	inputs := map[string]string{}
	for _, p := range params(callee["inputs"]) {
		if d, ok := p["default"]; ok {
			inputs["inputs.parameters."+p["name"].(string)] = fmt.Sprint(d)
		}
	}
	for _, p := range params(task["arguments"]) {
		inputs["inputs.parameters."+p["name"].(string)] = w.substitute(fmt.Sprint(p["value"]), w.dagScope)
	}
	out := map[string]json.RawMessage{}
	for name, v := range pluginArgs(w.t, callee) {
		s := w.substitute(v.(string), func(key string) (string, bool) {
			if v, ok := inputs[key]; ok {
				return v, true
			}
			v, ok := runtimeValues[key]
			return v, ok
		})
		out[name], _ = json.Marshal(s)
	}
	return out
}

// dagScope resolves what a DAG task's arguments may reference.
func (w *callSim) dagScope(key string) (string, bool) {
	if v, ok := w.globals[key]; ok {
		return v, true
	}
	if v, ok := runtimeValues[key]; ok {
		return v, true
	}
	if name, ok := strings.CutPrefix(key, "inputs.parameters."); ok {
		v, ok := dagInputs[name]
		return v, ok
	}
	if strings.HasPrefix(key, "tasks.") {
		parts := strings.Split(key, ".")
		v, ok := upstreamOutputs[parts[len(parts)-1]]
		return v, ok
	}
	return "", false
}

// substitute replaces Argo placeholders once, like Argo; KFP's own
// placeholders ({{$}}, {{$.inputs...}}) inside values are not Argo's and stay.
func (w *callSim) substitute(s string, scope func(string) (string, bool)) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		key := placeholder.FindStringSubmatch(m)[1]
		if strings.HasPrefix(key, "$") {
			return m
		}
		v, ok := scope(key)
		if !ok {
			w.t.Errorf("no value for placeholder %s", m)
		}
		return v
	})
}

func params(raw any) []map[string]any {
	m, _ := raw.(map[string]any)
	list, _ := m["parameters"].([]any)
	out := make([]map[string]any, len(list))
	for i, p := range list {
		out[i] = p.(map[string]any)
	}
	return out
}
