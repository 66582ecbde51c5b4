package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// nativeSkipped are corpus cases with a native-line workflow that the
// native suite leaves out, with why.
var nativeSkipped = map[string]string{
	"nvidia_gpu_scheduling_check.yaml": "a Pending case (testPending submits the KFP 2.x workflow)",
}

// nativeCases are the corpus cases whose workflow KFP master compiled too
// (convert/testdata/native): the same parameters, behaviour and checks,
// run on the native line, where every launch is also checked against what
// the API server recorded (nativeRecorded).
func nativeCases() []tcase {
	root, _ := testenv.RepoRoot()
	var out []tcase
	for _, c := range corpusCases {
		if _, err := os.Stat(filepath.Join(root, NativeCorpusDir, c.file)); err != nil || nativeSkipped[c.file] != "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func runNativeCases(t *testing.T, s *Stack) {
	for _, c := range nativeCases() {
		parallel(t, "native/"+c.name(), func(t *testing.T) { runCase(t, s, NamespaceFor("native-"+c.name()), c) })
	}
	parallel(t, "native-cache/parameter_cache", func(t *testing.T) {
		testNativeCacheHit(t, s, "parameter_cache.yaml", "core-comp", "crust-comp")
	})
	parallel(t, "native-observe/driver-decision-in-argo-get", func(t *testing.T) { testNativeDecisionInArgoGet(t, s) })
	parallel(t, "native-observe/api-server-requires-a-token", func(t *testing.T) { testNativeTokenRequired(t) })
}

// testNativeTokenRequired: the API test server the pods reach authenticates
// as KFP master's does, so the cases' plugin and launcher calls all carried
// a token TokenReview accepted; a call without one is refused.
func testNativeTokenRequired(t *testing.T) {
	conn, err := grpc.NewClient(hostAddr(mlPipelinePort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = kfpapi.New(conn, "ml-pipeline", nil).GetRun(context.Background(), "no-such-run")
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("GetRun without a token: %v, want Unauthenticated", err)
	}
}

// runNativeCase runs a native case as RunNative does; unless its
// behaviour asks for the cache, the run is submitted with caching off, as
// KFP's API server submits a run with caching disabled: on the native line
// every succeeded task is a cache entry (FindCachedTask), where on the
// MLMD line the launcher stand-in records entries only for Behaviour.Cache
// (a task with another task's component and inputs would hit its cache).
func (s *Stack) runNativeCase(c tcase) func(context.Context, string, string, map[string]any) (*wfv1.Workflow, error) {
	return func(ctx context.Context, ns, file string, params map[string]any) (*wfv1.Workflow, error) {
		return s.runNative(ctx, ns, file, params, c.b.Cache)
	}
}

// nativeRecorded: every launch ran as an API server task that ended as its
// executor pod did, whose recorded input parameters and input artifacts
// are those of the executor input in its pod spec patch.
func nativeRecorded() check {
	return func(r *Result) error {
		for _, l := range r.Launches {
			t := l.APITask
			if t == nil {
				return fmt.Errorf("%s: no API server task", l.Task)
			}
			want := map[wfv1.NodePhase]pb.PipelineTask_TaskState{wfv1.NodeSucceeded: pb.PipelineTask_SUCCEEDED, wfv1.NodeFailed: pb.PipelineTask_FAILED}[l.Node.Phase]
			if want != 0 && t.GetState() != want {
				return fmt.Errorf("%s: task %s is %s, its pod %s", l.Task, t.GetTaskId(), t.GetState(), l.Node.Phase)
			}
			rec := map[string]string{}
			for _, p := range t.GetInputs().GetParameters() {
				rec[p.GetParameterKey()] = jsonOf(p.GetValue())
			}
			for name, v := range l.Launch.Input.GetInputs().GetParameterValues() {
				if rec[name] != jsonOf(v) {
					return fmt.Errorf("%s: recorded input %s = %s, executor input has %s", l.Task, name, rec[name], jsonOf(v))
				}
			}
			got, wantURIs := map[string][]string{}, map[string][]string{}
			for _, a := range t.GetInputs().GetArtifacts() {
				for _, art := range a.GetArtifacts() {
					got[a.GetArtifactKey()] = append(got[a.GetArtifactKey()], art.GetUri())
				}
			}
			for name, list := range l.Launch.Input.GetInputs().GetArtifacts() {
				for _, a := range list.GetArtifacts() {
					wantURIs[name] = append(wantURIs[name], a.GetUri())
				}
			}
			for name, uris := range wantURIs {
				g := slices.Clone(got[name])
				sort.Strings(g)
				sort.Strings(uris)
				if !slices.Equal(g, uris) {
					return fmt.Errorf("%s: recorded input artifacts %s = %v, executor input has %v", l.Task, name, g, uris)
				}
			}
		}
		return nil
	}
}

// testNativeCacheHit: the same native workflow run twice in one namespace;
// the second run's container drivers find the first run's succeeded tasks
// through FindCachedTask: cache hit in their message, tasks CACHED, no
// executor pod, and the consumer's recorded inputs are the first run's.
func testNativeCacheHit(t *testing.T, s *Stack, file, producer, consumer string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*caseTimeout)
	defer cancel()
	ns := NamespaceFor("native-cache-" + file)
	first := runCase(t, s, ns, tcase{file: file, b: Behaviour{Cache: true}})
	if len(first.Of(producer)) != 1 || len(first.Of(consumer)) != 1 {
		t.Fatalf("first run: %s", first)
	}
	calls := s.svc.API.Calls("FindCachedTask")
	second := runCase(t, s, ns, tcase{file: file, b: Behaviour{Cache: true}})
	if len(second.Launches) != 0 {
		t.Errorf("second run started executor pods: %s", second)
	}
	if n := s.svc.API.Calls("FindCachedTask") - calls; n < 2 {
		t.Errorf("%d FindCachedTask calls during the second run, want one per container task", n)
	}
	tasks, err := s.APIChildren(ctx, string(second.Workflow.UID), "")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*pb.PipelineTask{}
	for _, task := range tasks {
		byName[task.GetName()] = task
	}
	for _, task := range []string{producer, consumer} {
		n := second.DriverNode(task + "-driver")
		if Output(n, "cached-decision") != "true" || n == nil || !strings.Contains(n.Message, "cache hit") {
			t.Errorf("second run, %s-driver: %+v, want a cache hit", task, n)
		}
		if got := byName[task]; got == nil || got.GetState() != pb.PipelineTask_CACHED {
			t.Errorf("second run, task %s: %v, want CACHED", task, got)
		}
	}
	firstTask := first.Of(consumer)[0].APITask
	if got, want := recordedParams(byName[consumer]), recordedParams(firstTask); got != want || got == "{}" {
		t.Errorf("second run, %s recorded inputs %s, want the first run's %s", consumer, got, want)
	}
}

func recordedParams(t *pb.PipelineTask) string {
	var parts []string
	for _, p := range t.GetInputs().GetParameters() {
		parts = append(parts, p.GetParameterKey()+"="+jsonOf(p.GetValue()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// testNativeDecisionInArgoGet: the v4 argo CLI's `argo get` shows the
// native driver's decision (its task in the API server, the inputs it
// resolved, the cache lookup: caching on) on the driver step's line.
func testNativeDecisionInArgoGet(t *testing.T, s *Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	r := runCase(t, s, "native-decision-in-argo-get", tcase{file: "add_numbers.yaml", params: map[string]any{"a": 1, "b": 2},
		b: Behaviour{Cache: true}})
	out, err := s.ArgoCLI(ctx, "get", r.Workflow.Name, "-n", r.Workflow.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("argo get %s:\n%s", r.Workflow.Name, stepTree(out))
	task := r.Of("add-numbers")[0].TaskID
	line := lineWith(out, "add-numbers-driver")
	want := "add-numbers: task " + task + ", 2 inputs resolved; cache miss"
	if !strings.Contains(line, want) || !strings.Contains(line, "✔") {
		t.Errorf("argo get line of add-numbers-driver: %q, want a succeeded node with %q", line, want)
	}
}

// TestNativeSpecs: the spec NativeSpec puts back together for every native
// corpus workflow decodes, and has every task the workflow's DAG templates
// name (task-name arguments) in some DAG of it, with a component.
func TestNativeSpecs(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, NativeCorpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, path := range files {
		file := filepath.Base(path)
		if file == "ray_job_integration_compiled.yaml" {
			continue // stale upstream (convert/testdata/native/README.md)
		}
		s, err := NativeSpec(file)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		b, _ := protojson.Marshal(s)
		spec := &pipelinespec.PipelineSpec{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, spec); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		tasks := map[string]bool{}
		for _, c := range append([]*pipelinespec.ComponentSpec{spec.GetRoot()}, slices.Collect(maps.Values(spec.GetComponents()))...) {
			for name, task := range c.GetDag().GetTasks() {
				if spec.GetComponents()[task.GetComponentRef().GetName()] == nil {
					t.Errorf("%s: task %s: no component %s", file, name, task.GetComponentRef().GetName())
				}
				tasks[name] = true
			}
		}
		wf, err := NativeCompiled(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, tmpl := range wf.Spec.Templates {
			for _, task := range dagTasks(tmpl) {
				for _, p := range task.Arguments.Parameters {
					if p.Name == "task-name" && !tasks[p.Value.String()] {
						t.Errorf("%s: the workflow names task %q, the spec has none", file, p.Value.String())
					}
				}
			}
		}
		checked++
	}
	t.Logf("%d native workflows: specs put back together", checked)
}

func dagTasks(t wfv1.Template) []wfv1.DAGTask {
	if t.DAG == nil {
		return nil
	}
	return t.DAG.Tasks
}
