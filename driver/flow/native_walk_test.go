package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// lineWalks are one line's walks over every spec, with what tells its
// records apart from the other line's: output artifact URIs by producing
// step and key, and the IDs of its records.
type lineWalks struct {
	env  *drivertest.Env
	uris map[string]string // output URI -> "path:key", of every walk (cache hits reach back)
	ids  map[string]bool   // the current walk's execution and task IDs
}

func newLineWalks(env *drivertest.Env) *lineWalks {
	return &lineWalks{env: env, uris: map[string]string{}, ids: map[string]bool{}}
}

func (l *lineWalks) walk(t *testing.T, p *drivertest.Pipeline, namespace, runID string, fail []string) *drivertest.Trace {
	t.Helper()
	w := l.env.Walker(p, runID)
	w.Base.Namespace = namespace
	w.Repeat = true
	w.Produce = drivertest.Produce
	w.Fail = map[string]bool{}
	for _, task := range fail {
		w.Fail[task] = true
	}
	// Only this walk's IDs: small MLMD IDs of other walks would match
	// ordinary values such as "1".
	l.ids = map[string]bool{}
	trace, err := w.Run(context.Background(), p)
	if err != nil {
		for _, s := range trace.Steps {
			t.Logf("%-9s %-50s %s", s.Type, s.Path, s.Result.Message)
		}
		t.Fatalf("%s line: %v", lineName(l.env), err)
	}
	for _, s := range trace.Steps {
		if id := s.Result.ExecutionID; id != 0 {
			l.ids[strconv.FormatInt(id, 10)] = true
		}
		if s.Result.TaskID != "" {
			l.ids[s.Result.TaskID] = true
		}
		if s.Launch == nil {
			continue
		}
		if s.Launch.TaskID != "" {
			l.ids[s.Launch.TaskID] = true
		}
		for key, list := range s.Launch.Input.GetOutputs().GetArtifacts() {
			for _, a := range list.GetArtifacts() {
				l.uris[a.GetUri()] = s.Path + ":" + key
			}
		}
	}
	return trace
}

func lineName(env *drivertest.Env) string {
	if env.Line == "" {
		return "MLMD"
	}
	return string(env.Line)
}

// uri names an input artifact by the step and output that produced it
// (list elements keep their suffix); imported URIs stay as they are.
func (l *lineWalks) uri(u string) string {
	if p, ok := l.uris[u]; ok {
		return p
	}
	if i := strings.LastIndexByte(u, '/'); i > 0 {
		if p, ok := l.uris[u[:i]]; ok {
			return p + u[i:]
		}
	}
	return u
}

// finalStates are the native line's task states as the MLMD line names
// them in a PipelineTaskFinalStatus: KFP master reports the task's state
// (SUCCEEDED), KFP 2.x the execution's (COMPLETE).
var finalStates = map[string]string{"SUCCEEDED": "COMPLETE"}

// value is a parameter value with this line's record IDs (placeholders
// such as the task ID) replaced and final status states named as on the
// MLMD line.
func (l *lineWalks) value(v *structpb.Value) string {
	var norm func(x any) any
	norm = func(x any) any {
		switch x := x.(type) {
		case string:
			if l.ids[x] {
				return "<id>"
			}
		case []any:
			for i := range x {
				x[i] = norm(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = norm(x[k])
			}
			if st, ok := x["state"].(string); ok && x["pipelineTaskName"] != nil && finalStates[st] != "" {
				x["state"] = finalStates[st]
			}
		}
		return x
	}
	b, err := json.Marshal(norm(v.AsInterface())) // sorted keys
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

var (
	recordRef = regexp.MustCompile(`\b(execution|task) ([0-9a-f]{8}-[0-9a-f-]{27}|[0-9]+)\b`)
	uuid      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// decision is a step's message without record IDs and names derived from
// them (PVC names): what the driver decided (ran, cache hit, skipped, N
// iterations, N inputs resolved).
func decision(msg string) string {
	return uuid.ReplaceAllString(recordRef.ReplaceAllString(msg, "<record>"), "<uuid>")
}

// view is what a step decided, comparable across lines.
func (l *lineWalks) view(s *drivertest.Step) []string {
	r := s.Result
	out := []string{
		fmt.Sprintf("type %s", s.Type),
		fmt.Sprintf("condition %s", boolOr(r.Condition)),
		fmt.Sprintf("iteration count %s", intOr(r.IterationCount)),
		fmt.Sprintf("cached %s", boolOr(r.CachedDecision)),
		fmt.Sprintf("launched %v", s.Launch != nil),
		"decision " + decision(r.Message),
	}
	if s.Launch == nil {
		return out
	}
	in := s.Launch.Input.GetInputs()
	for _, name := range slices.Sorted(maps.Keys(in.GetParameterValues())) {
		out = append(out, fmt.Sprintf("parameter %s = %s", name, l.value(in.GetParameterValues()[name])))
	}
	for _, name := range slices.Sorted(maps.Keys(in.GetArtifacts())) {
		var uris []string
		for _, a := range in.GetArtifacts()[name].GetArtifacts() {
			uris = append(uris, l.uri(a.GetUri()))
		}
		out = append(out, fmt.Sprintf("artifact %s = %v", name, uris))
	}
	return out
}

func boolOr(b *bool) string {
	if b == nil {
		return "nil"
	}
	return strconv.FormatBool(*b)
}

func intOr(i *int) string {
	if i == nil {
		return "nil"
	}
	return strconv.Itoa(*i)
}

// TestWalkNativeMatchesMLMD walks every spec TestWalkAllSpecs walks on
// both lines (and one with a failing task), each in its own namespace,
// each driver call made twice,
// and expects the same decisions step by step: condition, iteration count,
// cache decision, whether the task launched, the decision the message
// tells, and the executor input's resolved parameters and artifacts (by
// the step and output that produced them).
func TestWalkNativeMatchesMLMD(t *testing.T) {
	type walkCase struct {
		file string
		fail []string
	}
	var cases []walkCase
	for _, f := range specFiles(t) {
		cases = append(cases, walkCase{file: filepath.Base(f)})
	}
	cases = append(cases, walkCase{file: "pipeline_with_task_final_status.yaml", fail: []string{"fail-op"}})
	mlmd, native := newLineWalks(drivertest.NewEnv(t)), newLineWalks(drivertest.NewNativeEnv(t))
	for i, c := range cases {
		name := strings.TrimSuffix(c.file, ".yaml")
		if len(c.fail) > 0 {
			name += "-failing-" + strings.Join(c.fail, "-")
		}
		t.Run(name, func(t *testing.T) {
			p := load(t, c.file)
			// A namespace per walk: KFP master's cache spans the pipelines of
			// a namespace, KFP 2.x's is per pipeline (several specs share
			// components, and some pipeline names).
			ns := fmt.Sprintf("walk-%d", i)
			want, got := mlmd.walk(t, p, ns, "run-"+name, c.fail), native.walk(t, p, ns, "run-"+name, c.fail)
			// The native line has no iteration DAG calls: the tasks of an
			// iteration run under the loop itself.
			want.Steps = slices.DeleteFunc(want.Steps, func(s *drivertest.Step) bool {
				return s.Type == driver.DAG && s.Iteration >= 0
			})
			for i := range max(len(want.Steps), len(got.Steps)) {
				if i >= len(want.Steps) || i >= len(got.Steps) {
					t.Fatalf("MLMD walk has %d steps, native %d", len(want.Steps), len(got.Steps))
				}
				ws, gs := want.Steps[i], got.Steps[i]
				if ws.Path != gs.Path {
					t.Fatalf("step %d: MLMD %s, native %s", i, ws.Path, gs.Path)
				}
				wv, gv := mlmd.view(ws), native.view(gs)
				for j := range max(len(wv), len(gv)) {
					if a, b := at(wv, j), at(gv, j); a != b {
						t.Errorf("%s: MLMD %q, native %q", ws.Path, a, b)
					}
				}
			}
		})
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}
