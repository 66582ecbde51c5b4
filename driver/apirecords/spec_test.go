package apirecords

import (
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// loopSpec: root runs "for-loop-1" (a ParallelFor over "items") whose body
// runs container task "print".
const loopSpec = `{
 "root": {"dag": {"tasks": {
  "for-loop-1": {"taskInfo": {"name": "for-loop-1"}, "componentRef": {"name": "comp-for-loop-1"},
   "parameterIterator": {"itemInput": "item", "items": {"raw": "[1,2]"}}}}}},
 "components": {
  "comp-for-loop-1": {"dag": {"tasks": {"print": {"taskInfo": {"name": "print"}, "componentRef": {"name": "comp-print"}}}}},
  "comp-print": {"executorLabel": "exec-print"}},
 "deploymentSpec": {"executors": {"exec-print": {"container": {"image": "busybox"}}}}
}`

func testSpec(t *testing.T) *runSpec {
	t.Helper()
	s := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(loopSpec), s); err != nil {
		t.Fatal(err)
	}
	pipeline, err := decodePipelineSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := indexSpec(pipeline)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestHydrate: each call finds its task below the parent's scope path (a
// task of a loop's iteration below the loop's, whose component is the
// body).
func TestHydrate(t *testing.T) {
	spec := testSpec(t)
	for _, c := range []struct {
		name        string
		typ         driver.Type
		parentScope string
		task        string
		iteration   int
		wantScope   string
		wantErr     string
	}{
		{"loop", driver.DAG, "root", "for-loop-1", -1, "root.for-loop-1", ""},
		{"container in an iteration", driver.Container, "root.for-loop-1", "print", 2, "root.for-loop-1.print", ""},
		{"unknown task", driver.Container, "root", "nope", -1, "", "task_name"},
		{"unknown scope", driver.Container, "root.nope", "print", -1, "", "no task \"nope\""},
		{"foreign scope", driver.Container, "other", "print", -1, "", "does not start at"},
		{"DAG run as a container", driver.Container, "root", "for-loop-1", -1, "", "no container executor"},
	} {
		req := &driver.Request{Type: c.typ, TaskName: c.task, IterationIndex: c.iteration}
		got, scope, err := hydrate(req, spec, c.parentScope)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: err %v, want one naming %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || scope != c.wantScope || got.Task.GetTaskInfo().GetName() != c.task || got == req {
			t.Errorf("%s: scope %q request %+v err %v (a copy of the request wanted)", c.name, scope, got, err)
		}
		if c.typ == driver.Container && got.Container.GetImage() != "busybox" {
			t.Errorf("%s: container %v", c.name, got.Container)
		}
	}
}

// TestInputSource: a task's recorded inputs say how each arrived.
func TestInputSource(t *testing.T) {
	task := &pipelinespec.PipelineTaskSpec{
		DependentTasks: []string{"train"},
		Inputs: &pipelinespec.TaskInputsSpec{
			Parameters: map[string]*pipelinespec.TaskInputsSpec_InputParameterSpec{
				"a": {Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_ComponentInputParameter{ComponentInputParameter: "x"}},
				"b": {Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_TaskOutputParameter{TaskOutputParameter: &pipelinespec.TaskInputsSpec_InputParameterSpec_TaskOutputParameterSpec{ProducerTask: "train"}}},
				"c": {Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_RuntimeValue{RuntimeValue: &pipelinespec.ValueOrRuntimeParameter{}}},
				"s": {Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_TaskFinalStatus_{TaskFinalStatus: &pipelinespec.TaskInputsSpec_InputParameterSpec_TaskFinalStatus{}}},
			},
			Artifacts: map[string]*pipelinespec.TaskInputsSpec_InputArtifactSpec{
				"m": {Kind: &pipelinespec.TaskInputsSpec_InputArtifactSpec_TaskOutputArtifact{TaskOutputArtifact: &pipelinespec.TaskInputsSpec_InputArtifactSpec_TaskOutputArtifactSpec{ProducerTask: "train"}}},
			},
		},
		Iterator: &pipelinespec.PipelineTaskSpec_ParameterIterator{ParameterIterator: &pipelinespec.ParameterIteratorSpec{ItemInput: "item",
			Items: &pipelinespec.ParameterIteratorSpec_ItemsSpec{Kind: &pipelinespec.ParameterIteratorSpec_ItemsSpec_Raw{Raw: "[1]"}}}},
	}
	for _, c := range []struct {
		name  string
		param bool
		want  source
	}{
		{"a", true, source{pb.IOType_COMPONENT_INPUT, "parent"}},
		{"b", true, source{pb.IOType_TASK_OUTPUT_INPUT, "train"}},
		{"c", true, source{pb.IOType_RUNTIME_VALUE_INPUT, "parent"}},
		{"s", true, source{pb.IOType_TASK_FINAL_STATUS_OUTPUT, "train"}},
		{"item", true, source{pb.IOType_ITERATOR_INPUT_RAW, "parent"}},
		{"unwired", true, source{pb.IOType_COMPONENT_DEFAULT_INPUT, "parent"}},
		{"m", false, source{pb.IOType_TASK_OUTPUT_INPUT, "train"}},
	} {
		if got := inputSource(task, c.name, "parent", c.param); got != c.want {
			t.Errorf("input %q: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDAGState: a DAG is done when all expected children are, failed when
// one failed, else still running.
func TestDAGState(t *testing.T) {
	kids := func(states ...pb.PipelineTask_TaskState) []*pb.PipelineTask {
		var out []*pb.PipelineTask
		for _, s := range states {
			out = append(out, &pb.PipelineTask{State: s})
		}
		return out
	}
	for _, c := range []struct {
		kids     []*pb.PipelineTask
		expected int
		want     pb.PipelineTask_TaskState
	}{
		{kids(pb.PipelineTask_SUCCEEDED, pb.PipelineTask_CACHED, pb.PipelineTask_SKIPPED), 3, pb.PipelineTask_SUCCEEDED},
		{kids(pb.PipelineTask_SUCCEEDED), 2, pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED},
		{kids(pb.PipelineTask_SUCCEEDED, pb.PipelineTask_FAILED), 3, pb.PipelineTask_FAILED},
		{kids(pb.PipelineTask_RUNNING, pb.PipelineTask_SUCCEEDED), 2, pb.PipelineTask_RUNTIME_STATE_UNSPECIFIED},
		{nil, 0, pb.PipelineTask_SUCCEEDED},
	} {
		if got := dagState(c.kids, c.expected); got != c.want {
			t.Errorf("%d children expecting %d: %s, want %s", len(c.kids), c.expected, got, c.want)
		}
	}
}
