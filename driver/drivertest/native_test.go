package drivertest

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// standInSpec has what the stand-in handles: a container task with
// parameter, artifact and list outputs at the root and in a loop, and an
// importer of a pipeline input.
const standInSpec = `
pipelineInfo: {name: stand-in}
root:
  inputDefinitions: {parameters: {uri: {parameterType: STRING}}}
  dag:
    tasks:
      for-loop-1:
        componentRef: {name: comp-for-loop-1}
        parameterIterator: {itemInput: pipelinechannel--loop-item-param-1, items: {raw: '[1, 2]'}}
        taskInfo: {name: for-loop-1}
      produce:
        componentRef: {name: comp-produce}
        taskInfo: {name: produce}
      importer:
        componentRef: {name: comp-importer}
        inputs: {parameters: {uri: {componentInputParameter: uri}}}
        taskInfo: {name: importer}
components:
  comp-for-loop-1:
    dag:
      tasks:
        produce-2: {componentRef: {name: comp-produce}, taskInfo: {name: produce-2}}
  comp-produce:
    executorLabel: exec-produce
    outputDefinitions:
      parameters: {out: {parameterType: STRING}}
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
        parts: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}, isArtifactList: true}
  comp-importer:
    executorLabel: exec-importer
    inputDefinitions: {parameters: {uri: {parameterType: STRING}}}
    outputDefinitions: {artifacts: {artifact: {artifactType: {schemaTitle: system.Model, schemaVersion: 0.0.1}}}}
deploymentSpec:
  executors:
    exec-produce: {container: {image: 'python:3.11', command: [sh]}}
    exec-importer:
      importer:
        artifactUri: {runtimeParameter: uri}
        typeSchema: {schemaTitle: system.Model, schemaVersion: 0.0.1}
`

const modelURI = "minio://mlpipeline/models/m1"

// standIn is a run of standInSpec in the API test server with the tasks a
// driver would have created: the root, produce, the loop with two
// iterations and produce-2 in each.
type standIn struct {
	srv      *kfpapitest.Server
	launcher *NativeLauncher
	runs     pb.RunServiceClient
	arts     pb.ArtifactServiceClient
	p        *Pipeline
	root     *pb.PipelineTask
	produce  *pb.PipelineTask
	loop     *pb.PipelineTask
	iters    []*pb.PipelineTask
	inner    []*pb.PipelineTask // produce-2 per iteration
}

const standInRun = "run-stand-in"

func newStandIn(t *testing.T) *standIn {
	t.Helper()
	p, err := Parse([]byte(standInSpec))
	if err != nil {
		t.Fatal(err)
	}
	s := &standIn{srv: kfpapitest.Start(t, kfpapitest.Options{}), p: p}
	conn, err := grpc.NewClient(s.srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	s.launcher = &NativeLauncher{Conn: conn, Namespace: Namespace}
	s.runs, s.arts = pb.NewRunServiceClient(conn), pb.NewArtifactServiceClient(conn)
	root := &driver.Request{RunID: standInRun, RunDisplayName: "stand-in",
		RuntimeConfig: &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{"uri": structpb.NewStringValue(modelURI)}}}
	run, err := NativeRun(p, root)
	if err != nil {
		t.Fatal(err)
	}
	s.srv.AddRun(Namespace, run)
	s.root = s.create(t, &pb.PipelineTask{Name: "ROOT", Type: pb.PipelineTask_ROOT, ScopePath: "root",
		Inputs: &pb.PipelineTask_InputOutputs{Parameters: []*pb.PipelineTask_InputOutputs_IOParameter{{
			ParameterKey: "uri", Value: structpb.NewStringValue(modelURI), Type: pb.IOType_RUNTIME_VALUE_INPUT}}}})
	s.produce = s.create(t, &pb.PipelineTask{Name: "produce", Type: pb.PipelineTask_RUNTIME, ScopePath: "root.produce", ParentTaskId: &s.root.TaskId})
	two := int64(2)
	s.loop = s.create(t, &pb.PipelineTask{Name: "for-loop-1", Type: pb.PipelineTask_LOOP, ScopePath: "root.for-loop-1",
		ParentTaskId: &s.root.TaskId, TypeAttributes: &pb.PipelineTask_TypeAttributes{IterationCount: &two}})
	for i := range int64(2) {
		it := s.create(t, &pb.PipelineTask{Name: "for-loop-1", Type: pb.PipelineTask_DAG, ScopePath: "root.for-loop-1",
			ParentTaskId: &s.loop.TaskId, TypeAttributes: &pb.PipelineTask_TypeAttributes{IterationIndex: &i}})
		s.iters = append(s.iters, it)
		s.inner = append(s.inner, s.create(t, &pb.PipelineTask{Name: "produce-2", Type: pb.PipelineTask_RUNTIME,
			ScopePath: "root.for-loop-1.produce-2", ParentTaskId: &it.TaskId, TypeAttributes: &pb.PipelineTask_TypeAttributes{IterationIndex: &i}}))
	}
	return s
}

func (s *standIn) create(t *testing.T, task *pb.PipelineTask) *pb.PipelineTask {
	t.Helper()
	task.RunId, task.State = standInRun, pb.PipelineTask_RUNNING
	got, err := s.runs.CreateTask(context.Background(), &pb.CreateTaskRequest{RunId: standInRun, Task: task})
	if err != nil {
		t.Fatalf("creating task %s: %v", task.GetName(), err)
	}
	return got
}

func (s *standIn) get(t *testing.T, task *pb.PipelineTask) *pb.PipelineTask {
	t.Helper()
	got, err := s.runs.GetTask(context.Background(), &pb.GetTaskRequest{RunId: standInRun, TaskId: task.GetTaskId()})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (s *standIn) state(t *testing.T, task *pb.PipelineTask) pb.PipelineTask_TaskState {
	t.Helper()
	return s.get(t, task).GetState()
}

// outputLinks are the task's output links as "key type iteration".
func (s *standIn) outputLinks(t *testing.T, task *pb.PipelineTask) []string {
	t.Helper()
	var out []string
	for _, typ := range []pb.IOType{pb.IOType_OUTPUT, pb.IOType_ITERATOR_OUTPUT} {
		res, err := s.arts.ListArtifactTasks(context.Background(), &pb.ListArtifactTasksRequest{TaskIds: []string{task.GetTaskId()}, Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.GetArtifactTasks() {
			it := "-"
			if l.GetProducer().Iteration != nil {
				it = strconv.FormatInt(l.GetProducer().GetIteration(), 10)
			}
			out = append(out, l.GetKey()+" "+l.GetType().String()+" "+it)
		}
	}
	slices.Sort(out)
	return out
}

// launch is the pod spec patch the native driver renders for task, parsed
// back as the walker does.
func (s *standIn) launch(t *testing.T, task *pb.PipelineTask, iteration int) *Launch {
	t.Helper()
	art := func(name string) *pipelinespec.ArtifactList {
		return &pipelinespec.ArtifactList{Artifacts: []*pipelinespec.RuntimeArtifact{{
			Type: &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: "system.Dataset"}},
			Uri:  "minio://mlpipeline/v2/artifacts/stand-in/" + task.GetTaskId() + "/" + name}}}
	}
	in := &pipelinespec.ExecutorInput{Outputs: &pipelinespec.ExecutorInput_Outputs{
		Parameters: map[string]*pipelinespec.ExecutorInput_OutputParameter{"out": {OutputFile: "/tmp/kfp/outputs/out"}},
		Artifacts:  map[string]*pipelinespec.ArtifactList{"data": art("data"), "parts": art("parts"), executor.LogsArtifact: art("logs")},
	}}
	cmd, err := executor.NativeCommand(executor.Native{PipelineName: "stand-in", RunID: standInRun, TaskID: task.GetTaskId(),
		ParentTaskID: task.GetParentTaskId(), TaskName: task.GetName(), Fingerprint: "fp", IterationIndex: iteration, Input: in,
		Options: driver.Options{PublishLogs: "true", LogLevel: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	patch, err := json.Marshal(corev1.PodSpec{Containers: []corev1.Container{{Name: executor.MainContainer, Command: cmd}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseLaunch(string(patch))
	if err != nil {
		t.Fatal(err)
	}
	l.Component = s.p.Spec.GetComponents()["comp-produce"]
	return l
}

func outcome(v string) Outcome {
	return Outcome{Parameters: map[string]*structpb.Value{"out": structpb.NewStringValue(v), "undeclared": structpb.NewStringValue("x")}}
}

func TestParseLaunchNative(t *testing.T) {
	s := newStandIn(t)
	l := s.launch(t, s.inner[1], 1)
	if l.Line != driver.LineNative || l.TaskID != s.inner[1].GetTaskId() || l.ParentTaskID != s.iters[1].GetTaskId() ||
		l.TaskName != "produce-2" || l.Fingerprint != "fp" || l.IterationIndex != 1 || l.RunID != standInRun || l.PipelineName != "stand-in" ||
		l.Namespace != "" { // $(NAMESPACE): left to the pod's environment

		t.Errorf("parsed %+v", l)
	}
	if len(l.Input.GetOutputs().GetArtifacts()) != 3 {
		t.Errorf("executor input outputs: %v", l.Input.GetOutputs())
	}
	if got := s.launch(t, s.produce, -1).IterationIndex; got != -1 {
		t.Errorf("no --iteration_index: IterationIndex %d, want -1", got)
	}
	// The MLMD launcher's flags still parse, booleans given as --flag=value included.
	cmd, err := executor.MLMDCommand(executor.Launcher{PipelineName: "p", RunID: "r", ExecutionID: 42, Input: l.Input,
		Component: l.Component, Options: driver.Options{MLMDAddress: "m", MLMDPort: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	patch, _ := json.Marshal(corev1.PodSpec{Containers: []corev1.Container{{Name: executor.MainContainer, Command: cmd}}})
	m, err := ParseLaunch(string(patch))
	if err != nil || m.Line != driver.LineMLMD || m.ExecutionID != 42 || m.Component.GetExecutorLabel() != "exec-produce" {
		t.Errorf("MLMD launch %+v, %v", m, err)
	}
}

// TestNativeLauncherPublishes: outputs recorded as KFP master's launcher
// records them, read back through GetTask and ListArtifactTasks; DAG
// states settle bottom-up once all their expected children are done.
func TestNativeLauncherPublishes(t *testing.T) {
	s := newStandIn(t)
	ctx := context.Background()
	if err := s.launcher.Complete(ctx, s.launch(t, s.produce, -1), outcome("hello")); err != nil {
		t.Fatal(err)
	}
	got := s.get(t, s.produce)
	if got.GetState() != pb.PipelineTask_SUCCEEDED || got.GetEndTime() == nil {
		t.Errorf("produce: state %s, end %v", got.GetState(), got.GetEndTime())
	}
	params := got.GetOutputs().GetParameters()
	if len(params) != 1 || params[0].GetParameterKey() != "out" || params[0].GetValue().GetStringValue() != "hello" ||
		params[0].GetType() != pb.IOType_OUTPUT || params[0].GetProducer().GetTaskName() != "produce" || params[0].GetProducer().Iteration != nil {
		t.Errorf("produce output parameters (only the declared one, as OUTPUT): %v", params)
	}
	uris := map[string][]string{}
	for _, a := range got.GetOutputs().GetArtifacts() {
		for _, art := range a.GetArtifacts() {
			uris[a.GetArtifactKey()] = append(uris[a.GetArtifactKey()], art.GetUri())
			if art.GetType() != pb.Artifact_Dataset || art.GetNamespace() != Namespace {
				t.Errorf("artifact %s: type %s, namespace %q", a.GetArtifactKey(), art.GetType(), art.GetNamespace())
			}
		}
	}
	if len(uris["data"]) != 1 || len(uris["parts"]) != 2 || uris["parts"][0] == uris["parts"][1] || len(uris[executor.LogsArtifact]) != 1 {
		t.Errorf("produce output artifacts (a list output gets 2): %v", uris)
	}
	want := []string{"data OUTPUT -", "executor-logs OUTPUT -", "parts OUTPUT -", "parts OUTPUT -"}
	if links := s.outputLinks(t, s.produce); !slices.Equal(links, want) {
		t.Errorf("produce links %v, want %v", links, want)
	}
	if st := s.state(t, s.root); st != pb.PipelineTask_RUNNING {
		t.Errorf("root %s after 1 of its 3 tasks, want RUNNING", st)
	}

	if err := s.launcher.Complete(ctx, s.launch(t, s.inner[0], 0), outcome("i0")); err != nil {
		t.Fatal(err)
	}
	p := s.get(t, s.inner[0]).GetOutputs().GetParameters()
	if len(p) != 1 || p[0].GetType() != pb.IOType_ITERATOR_OUTPUT || p[0].GetProducer().Iteration == nil || p[0].GetProducer().GetIteration() != 0 {
		t.Errorf("an iteration's output parameter: %v, want ITERATOR_OUTPUT of iteration 0", p)
	}
	want = []string{"data ITERATOR_OUTPUT 0", "executor-logs ITERATOR_OUTPUT 0", "parts ITERATOR_OUTPUT 0", "parts ITERATOR_OUTPUT 0"}
	if links := s.outputLinks(t, s.inner[0]); !slices.Equal(links, want) {
		t.Errorf("iteration links %v, want %v", links, want)
	}
	if st := s.state(t, s.iters[0]); st != pb.PipelineTask_SUCCEEDED {
		t.Errorf("iteration 0 %s with its one task done, want SUCCEEDED", st)
	}
	if st := s.state(t, s.loop); st != pb.PipelineTask_RUNNING {
		t.Errorf("loop %s after 1 of 2 iterations, want RUNNING", st)
	}
	if err := s.launcher.Complete(ctx, s.launch(t, s.inner[1], 1), outcome("i1")); err != nil {
		t.Fatal(err)
	}
	if st := s.state(t, s.loop); st != pb.PipelineTask_SUCCEEDED {
		t.Errorf("loop %s after both iterations, want SUCCEEDED", st)
	}
	if st := s.state(t, s.root); st != pb.PipelineTask_RUNNING {
		t.Errorf("root %s before the importer ran, want RUNNING", st)
	}

	imp := NativeImport{RunID: standInRun, ParentTaskID: s.root.GetTaskId(), TaskName: "importer",
		Task: s.p.Spec.GetRoot().GetDag().GetTasks()["importer"], Spec: s.p.Executors["exec-importer"].GetImporter(),
		OutputKey: "artifact", IterationIndex: -1}
	task, err := s.launcher.Import(ctx, imp)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.launcher.Import(ctx, imp)
	if err != nil {
		t.Fatal(err)
	}
	if again.GetTaskId() != task.GetTaskId() {
		t.Errorf("a repeated import created task %s besides %s", again.GetTaskId(), task.GetTaskId())
	}
	got = s.get(t, task)
	if got.GetType() != pb.PipelineTask_IMPORTER || got.GetState() != pb.PipelineTask_SUCCEEDED || got.GetScopePath() != "root.importer" ||
		got.GetParentTaskId() != s.root.GetTaskId() || got.GetName() != "importer" {
		t.Errorf("importer task %v", got)
	}
	arts := got.GetOutputs().GetArtifacts()
	if len(arts) != 1 || arts[0].GetArtifactKey() != "artifact" || len(arts[0].GetArtifacts()) != 1 {
		t.Fatalf("importer outputs %v, want the one imported artifact", arts)
	}
	if a := arts[0].GetArtifacts()[0]; a.GetUri() != modelURI || a.GetName() != "m1" || a.GetType() != pb.Artifact_Model {
		t.Errorf("imported artifact %v", a)
	}
	if st := s.state(t, s.root); st != pb.PipelineTask_RUNNING {
		t.Errorf("root %s with all 3 tasks done, want RUNNING (the root is the API server's to settle, with the run)", st)
	}
}

// TestNativeLauncherFailure: a failed task keeps only its logs and no
// parameters, and fails every DAG above it up to the root (left to the API server).
func TestNativeLauncherFailure(t *testing.T) {
	s := newStandIn(t)
	out := outcome("never")
	out.Failed = true
	if err := s.launcher.Complete(context.Background(), s.launch(t, s.inner[1], 1), out); err != nil {
		t.Fatal(err)
	}
	got := s.get(t, s.inner[1])
	if got.GetState() != pb.PipelineTask_FAILED || len(got.GetOutputs().GetParameters()) != 0 {
		t.Errorf("failed task: state %s, outputs %v", got.GetState(), got.GetOutputs().GetParameters())
	}
	if links := s.outputLinks(t, s.inner[1]); !slices.Equal(links, []string{"executor-logs ITERATOR_OUTPUT 1"}) {
		t.Errorf("failed task links %v, want its logs only", links)
	}
	for name, task := range map[string]*pb.PipelineTask{"iteration 1": s.iters[1], "loop": s.loop} {
		if st := s.state(t, task); st != pb.PipelineTask_FAILED {
			t.Errorf("%s %s, want FAILED", name, st)
		}
	}
	if st := s.state(t, s.root); st != pb.PipelineTask_RUNNING {
		t.Errorf("root %s, want RUNNING (the API server's to settle)", st)
	}
	if st := s.state(t, s.iters[0]); st != pb.PipelineTask_RUNNING {
		t.Errorf("iteration 0 %s, want RUNNING (its task has not finished)", st)
	}
}

// TestNativeLauncherRefusesMLMDLaunch: an MLMD launch names no task.
func TestNativeLauncherRefusesMLMDLaunch(t *testing.T) {
	s := newStandIn(t)
	err := s.launcher.Complete(context.Background(), &Launch{RunID: standInRun, ExecutionID: 3, Input: &pipelinespec.ExecutorInput{}}, Outcome{})
	if err == nil {
		t.Fatal("completing an MLMD launch on the native line succeeded")
	}
}
