package flow_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver/mlmdservertest"
)

func TestSecondRunHitsCache(t *testing.T) {
	env := drivertest.NewEnv(t)
	first := walk(t, env, "parameter_cache.yaml", "cache-1", nil)
	second := walk(t, env, "parameter_cache.yaml", "cache-2", nil)
	hits := 0
	for i, s := range second.Steps {
		if s.Type != driver.Container {
			continue
		}
		r := s.Result
		if r.CachedDecision == nil || !*r.CachedDecision {
			t.Errorf("second run: %s not cached: %s", s.Path, r.Message)
			continue
		}
		hits++
		if r.PodSpecPatch != "" || !strings.Contains(r.Message, "cache hit") {
			t.Errorf("cache hit %s: patch %q, message %q", s.Path, r.PodSpecPatch, r.Message)
		}
		exec, err := env.MLMD.ExecutionByID(context.Background(), r.ExecutionID)
		if err != nil {
			t.Fatal(err)
		}
		if exec.State() != pb.Execution_CACHED || exec.String("cached_execution_id") == "" {
			t.Errorf("cache hit %s: stored state %s, cached_execution_id %q", s.Path, exec.State(), exec.String("cached_execution_id"))
		}
		if first.Steps[i].Result.ExecutionID == r.ExecutionID {
			t.Errorf("cache hit %s reused the execution ID instead of recording its own", s.Path)
		}
	}
	if hits == 0 {
		t.Fatal("no container task of the second run hit the cache")
	}
	// Consumers of a cached task read the outputs the hit recorded.
	arts := walk(t, env, "artifact_cache.yaml", "acache-1", nil)
	again := walk(t, env, "artifact_cache.yaml", "acache-2", nil)
	if len(arts.Steps) != len(again.Steps) {
		t.Fatalf("artifact_cache: %d steps then %d", len(arts.Steps), len(again.Steps))
	}
	// Disabled globally: no lookup, every task runs.
	off := walk(t, env, "parameter_cache.yaml", "cache-off", func(w *drivertest.Walker) { w.Base.Options.CacheDisabled = true })
	for _, s := range off.Steps {
		if s.Type == driver.Container && (s.Launch == nil || strings.Contains(s.Result.Message, "cache")) {
			t.Errorf("cache_disabled: %s: %s", s.Path, s.Result.Message)
		}
	}
}

func TestRepeatedCallsCreateNoDuplicates(t *testing.T) {
	env := drivertest.NewEnv(t)
	for _, file := range []string{"pipeline_with_loops.yaml", "collected_artifacts.yaml", "if_elif_else_complex.yaml", "pipeline_with_importer.yaml"} {
		walk(t, env, file, "dup-"+file, func(w *drivertest.Walker) { w.Repeat = true })
	}
	raw := mlmdservertest.NewClient(t, env.MLMDServer)
	resp, err := raw.GetExecutions(context.Background(), &pb.GetExecutionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range resp.GetExecutions() {
		if e.GetName() == "" {
			t.Errorf("execution %d has no name", e.GetId())
		}
		key := e.GetName()
		if seen[key] {
			t.Errorf("duplicate execution %q", key)
		}
		seen[key] = true
	}
	// One more call of an existing step: same execution, no new record.
	p := load(t, "hello_world.yaml")
	w := env.Walker(p, "dup-hello")
	trace, err := w.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	before := len(resp.GetExecutions()) + 2
	req := containerRequest(t, env, p, trace)
	again, err := env.Service.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if again.ExecutionID != trace.Find("echo")[0].Result.ExecutionID || !strings.Contains(again.Message, "existing") {
		t.Errorf("repeated call: execution %d (%s), want %d", again.ExecutionID, again.Message, trace.Find("echo")[0].Result.ExecutionID)
	}
	after, _ := raw.GetExecutions(context.Background(), &pb.GetExecutionsRequest{})
	if len(after.GetExecutions()) != before {
		t.Errorf("%d executions after a repeated call, want %d", len(after.GetExecutions()), before)
	}
}

// containerRequest rebuilds the CONTAINER request of hello_world's task.
func containerRequest(t *testing.T, env *drivertest.Env, p *drivertest.Pipeline, trace *drivertest.Trace) *driver.Request {
	t.Helper()
	task := p.Spec.GetRoot().GetDag().GetTasks()["echo"]
	comp := p.Spec.GetComponents()[task.GetComponentRef().GetName()]
	req := env.Walker(p, "dup-hello").Base
	req.Type, req.TaskName, req.DAGExecutionID = driver.Container, "echo", trace.RootID
	req.Task, req.Component = task, comp
	req.Container = p.Executors[comp.GetExecutorLabel()].GetContainer()
	return &req
}

func TestMLMDDownIsTransient(t *testing.T) {
	env := drivertest.NewEnv(t)
	p := load(t, "hello_world.yaml")
	trace := walk(t, env, "hello_world.yaml", "down", nil)
	req := containerRequest(t, env, p, trace)
	req.RunID, req.TaskName = "down", "echo"
	env.MLMDServer.Server.SetUnavailable(true)
	_, err := env.Service.Run(context.Background(), req)
	if !driver.IsTransient(err) {
		t.Fatalf("MLMD down: err = %v, want a transient error", err)
	}
	root := env.Walker(p, "down-root").Base
	root.Type, root.Component = driver.RootDAG, p.Spec.GetRoot()
	root.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{}
	if _, err := env.Service.Run(context.Background(), &root); !driver.IsTransient(err) {
		t.Fatalf("MLMD down, ROOT_DAG: err = %v, want transient", err)
	}
	env.MLMDServer.Server.SetUnavailable(false)
	res, err := env.Service.Run(context.Background(), req)
	if err != nil || res.ExecutionID == 0 {
		t.Fatalf("MLMD back: %v, %v", res, err)
	}
	if _, err := env.Service.Run(context.Background(), &root); err != nil {
		t.Fatalf("MLMD back, ROOT_DAG: %v", err)
	}
}

func TestMalformedRequestsNameTheField(t *testing.T) {
	env := drivertest.NewEnv(t)
	p := load(t, "hello_world.yaml")
	trace := walk(t, env, "hello_world.yaml", "bad", nil)
	good := containerRequest(t, env, p, trace)
	good.RunID = "bad"
	cases := map[string]func(r *driver.Request){
		"task.taskInfo.name": func(r *driver.Request) { r.Task = &pipelinespec.PipelineTaskSpec{} },
		"container":          func(r *driver.Request) { r.Container = nil },
		"component":          func(r *driver.Request) { r.Component = nil },
		"dag_execution_id":   func(r *driver.Request) { r.DAGExecutionID = 0 },
		"task_name":          func(r *driver.Request) { r.TaskName = "" },
		"type":               func(r *driver.Request) { r.Type = "WHAT" },
		"container.image":    func(r *driver.Request) { r.Container = &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{} },
		`input "text"`: func(r *driver.Request) {
			r.Task = proto.Clone(r.Task).(*pipelinespec.PipelineTaskSpec)
			r.Task.Inputs = &pipelinespec.TaskInputsSpec{Parameters: map[string]*pipelinespec.TaskInputsSpec_InputParameterSpec{
				"text": {Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_ComponentInputParameter{ComponentInputParameter: "nope"}}}}
		},
	}
	for field, mutate := range cases {
		req := *good
		mutate(&req)
		_, err := env.Service.Run(context.Background(), &req)
		if err == nil || !strings.Contains(err.Error(), field) || driver.IsTransient(err) {
			t.Errorf("%s: err = %v, want a permanent error naming %s", field, err, field)
		}
	}
	var zero driver.Request
	if _, err := env.Service.Run(context.Background(), &zero); err == nil {
		t.Error("empty request: want an error")
	}
	for _, typ := range []driver.Type{driver.RootDAG, driver.DAG, driver.Container} {
		req := driver.Request{Type: typ, PipelineName: "p", RunID: "r", Options: env.Options, Component: &pipelinespec.ComponentSpec{},
			Task: &pipelinespec.PipelineTaskSpec{TaskInfo: &pipelinespec.PipelineTaskInfo{Name: "t"}}, TaskName: "t", DAGExecutionID: 999999}
		if _, err := env.Service.Run(context.Background(), &req); err == nil {
			t.Errorf("%s with a missing DAG: want an error", typ)
		}
	}
}

func TestPodSpecPatch(t *testing.T) {
	env := drivertest.NewEnv(t)
	opts := func(w *drivertest.Walker) {
		w.Base.Options.HTTPProxy, w.Base.Options.NoProxy = "http://proxy:3128", "localhost"
	}
	gpu := walk(t, env, "nvidia_gpu_scheduling_check.yaml", "gpu", opts)
	spec := patchOf(t, gpu.Steps[len(gpu.Steps)-1].Result.PodSpecPatch)
	main := spec.Containers[0]
	if main.Name != "main" || main.Command[0] != "/kfp-launcher/launch" || main.Command[len(main.Command)-1] != "--" {
		t.Fatalf("main container %s command %v", main.Name, main.Command)
	}
	if q := main.Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
		t.Errorf("gpu limit = %v (limits %v)", q.String(), main.Resources.Limits)
	}
	env1 := map[string]string{}
	for _, e := range main.Env {
		env1[e.Name] = e.Value
	}
	if env1["http_proxy"] != "http://proxy:3128" || env1["HTTP_PROXY"] != "http://proxy:3128" || env1["NO_PROXY"] != "localhost" {
		t.Errorf("proxy env = %v", env1)
	}
	if _, ok := env1["https_proxy"]; ok {
		t.Error("an empty proxy flag added env")
	}
	machine := walk(t, env, "pipeline_with_string_machine_fields_task_output.yaml", "machine", nil)
	sum := patchOf(t, only(t, machine, "sum-numbers").Result.PodSpecPatch).Containers[0].Resources
	gpuLimit := sum.Limits["nvidia.com/gpu"]
	if sum.Limits.Cpu().String() != "4" || sum.Limits.Memory().String() != "15G" || gpuLimit.String() != "1" {
		t.Errorf("resources from upstream outputs = %v", sum.Limits)
	}
	secrets := walk(t, env, "pipeline_with_secret_as_env.yaml", "secret", nil)
	var refs int
	for _, s := range secrets.Steps {
		if s.Result.PodSpecPatch == "" {
			continue
		}
		for _, e := range patchOf(t, s.Result.PodSpecPatch).Containers[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				refs++
			}
		}
	}
	if refs == 0 {
		t.Error("kubernetes config: no secret env reached the patch")
	}
	ws := walk(t, env, "pipeline_with_workspace.yaml", "ws", nil)
	mounted := false
	for _, s := range ws.Steps {
		if s.Result.PodSpecPatch != "" {
			for _, v := range patchOf(t, s.Result.PodSpecPatch).Volumes {
				mounted = mounted || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "wf-ws-kfp-workspace")
			}
		}
	}
	if !mounted {
		t.Error("workspace pipeline: no task mounts the workspace PVC")
	}
}

func patchOf(t *testing.T, patch string) *corev1.PodSpec {
	t.Helper()
	var spec corev1.PodSpec
	if err := json.Unmarshal([]byte(patch), &spec); err != nil || len(spec.Containers) == 0 {
		t.Fatalf("pod spec patch %q: %v", patch, err)
	}
	return &spec
}

func TestPVCOperations(t *testing.T) {
	env := drivertest.NewEnv(t)
	trace := walk(t, env, "pipeline_with_volume.yaml", "vol", func(w *drivertest.Walker) { w.Repeat = true })
	create := only(t, trace, "createpvc").Result
	if create.PodSpecPatch != "" || !strings.Contains(create.Message, "created") {
		t.Fatalf("createpvc: %q, patch %q", create.Message, create.PodSpecPatch)
	}
	pvcs := env.Kube.PVCs(drivertest.Namespace)
	if len(trace.Find("deletepvc")) == 1 && len(pvcs) != 0 {
		t.Errorf("PVCs left after deletepvc: %d", len(pvcs))
	}
	exec, err := env.MLMD.ExecutionByID(context.Background(), create.ExecutionID)
	if err != nil || exec.State() != pb.Execution_COMPLETE || exec.Outputs()["name"].GetStringValue() == "" {
		t.Fatalf("createpvc execution: %v %v", exec, err)
	}
	// Consumers mount the PVC by the name createpvc published.
	name := exec.Outputs()["name"].GetStringValue()
	mounted := false
	for _, s := range trace.Steps {
		if s.Result.PodSpecPatch != "" {
			for _, v := range patchOf(t, s.Result.PodSpecPatch).Volumes {
				mounted = mounted || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == name)
			}
		}
	}
	if !mounted {
		t.Errorf("no task mounts PVC %s", name)
	}
}

func TestPipelineRootFromConfigMapAndRuntimeConfig(t *testing.T) {
	env := drivertest.NewEnv(t)
	env.Kube.AddConfigMap(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "kfp-launcher", Namespace: drivertest.Namespace},
		Data:       map[string]string{"defaultPipelineRoot": "s3://team-bucket/kfp"},
	})
	trace := walk(t, env, "two_step_pipeline.yaml", "cm-root", nil)
	uri := ran(t, trace, "write-to-gcs").GetOutputs().GetArtifacts()["output_gcs_path"].GetArtifacts()[0].GetUri()
	if !strings.HasPrefix(uri, "s3://team-bucket/kfp/simple-two-step-pipeline/cm-root/write-to-gcs/") {
		t.Errorf("output URI %s does not use the ConfigMap's root", uri)
	}
	run, err := env.MLMD.RunOf(context.Background(), "simple-two-step-pipeline", "cm-root", trace.RootID)
	if err != nil || !strings.Contains(run.StoreSessionInfo, `"Provider":"s3"`) || run.Namespace != drivertest.Namespace {
		t.Errorf("run context: %+v, %v", run, err)
	}
	p := load(t, "two_step_pipeline.yaml")
	w := env.Walker(p, "rc-root")
	w.Base.Options.CacheDisabled = true // the same task ran above: it would be a cache hit
	w.Driver = driver.Func(func(ctx context.Context, req *driver.Request) (*driver.Result, error) {
		if req.Type == driver.RootDAG {
			req.RuntimeConfig.GcsOutputDirectory = "gs://own-bucket/x"
		}
		return env.Service.Run(ctx, req)
	})
	own, err := w.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if uri := ran(t, own, "write-to-gcs").GetOutputs().GetArtifacts()["output_gcs_path"].GetArtifacts()[0].GetUri(); !strings.HasPrefix(uri, "gs://own-bucket/x/") {
		t.Errorf("runtime config root ignored: %s", uri)
	}
}
