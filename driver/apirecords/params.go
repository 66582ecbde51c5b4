package apirecords

import (
	"maps"
	"slices"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// runtimeParams are the run's input parameters as the root task's inputs.
func runtimeParams(req *driver.Request) []*pb.PipelineTask_InputOutputs_IOParameter {
	params := req.RuntimeConfig.GetParameterValues()
	out := make([]*pb.PipelineTask_InputOutputs_IOParameter, 0, len(params))
	for _, name := range slices.Sorted(maps.Keys(params)) {
		out = append(out, &pb.PipelineTask_InputOutputs_IOParameter{ParameterKey: name, Value: params[name],
			Type: pb.IOType_RUNTIME_VALUE_INPUT, Producer: &pb.IOProducer{TaskName: "ROOT"}})
	}
	return out
}

// source is how an input reached the task, for the record: its IO type
// and producing task.
type source struct {
	typ      pb.IOType
	producer string
}

// inputSource tells where input name of the task came from; parent names
// the parent DAG task. Inputs the task spec does not wire got their
// component default.
func inputSource(task *pipelinespec.PipelineTaskSpec, name, parent string, param bool) source {
	if it := task.GetParameterIterator(); param && it.GetItemInput() == name {
		if it.GetItems().GetRaw() != "" {
			return source{pb.IOType_ITERATOR_INPUT_RAW, parent}
		}
		return source{pb.IOType_ITERATOR_INPUT, parent}
	}
	if !param && task.GetArtifactIterator().GetItemInput() == name {
		return source{pb.IOType_ITERATOR_INPUT, parent}
	}
	if !param {
		spec, ok := task.GetInputs().GetArtifacts()[name]
		switch {
		case !ok:
			return source{pb.IOType_COMPONENT_DEFAULT_INPUT, parent}
		case spec.GetTaskOutputArtifact() != nil:
			return source{pb.IOType_TASK_OUTPUT_INPUT, spec.GetTaskOutputArtifact().GetProducerTask()}
		}
		return source{pb.IOType_COMPONENT_INPUT, parent}
	}
	spec, ok := task.GetInputs().GetParameters()[name]
	switch {
	case !ok:
		return source{pb.IOType_COMPONENT_DEFAULT_INPUT, parent}
	case spec.GetTaskOutputParameter() != nil:
		return source{pb.IOType_TASK_OUTPUT_INPUT, spec.GetTaskOutputParameter().GetProducerTask()}
	case spec.GetTaskFinalStatus() != nil:
		return source{pb.IOType_TASK_FINAL_STATUS_OUTPUT, firstOf(task.GetDependentTasks())}
	case spec.GetRuntimeValue() != nil:
		return source{pb.IOType_RUNTIME_VALUE_INPUT, parent}
	}
	return source{pb.IOType_COMPONENT_INPUT, parent}
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// producer names the producing task, and the iteration when the consumer
// runs in one.
func producer(name string, iteration int) *pb.IOProducer {
	p := &pb.IOProducer{TaskName: name}
	if iteration >= 0 {
		i := int64(iteration)
		p.Iteration = &i
	}
	return p
}

// inputParams are the resolved input parameters as the task's inputs.
func inputParams(req *driver.Request, parent string, in *pipelinespec.ExecutorInput_Inputs) []*pb.PipelineTask_InputOutputs_IOParameter {
	values := in.GetParameterValues()
	out := make([]*pb.PipelineTask_InputOutputs_IOParameter, 0, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		src := inputSource(req.Task, name, parent, true)
		out = append(out, &pb.PipelineTask_InputOutputs_IOParameter{ParameterKey: name, Value: values[name],
			Type: src.typ, Producer: producer(src.producer, req.IterationIndex)})
	}
	return out
}

// inputLinks link the resolved input artifacts to the task; their names
// are their artifact IDs.
func inputLinks(req *driver.Request, taskID, parent string, in *pipelinespec.ExecutorInput_Inputs) []*pb.ArtifactTask {
	var out []*pb.ArtifactTask
	for _, name := range slices.Sorted(maps.Keys(in.GetArtifacts())) {
		src := inputSource(req.Task, name, parent, false)
		for _, a := range in.GetArtifacts()[name].GetArtifacts() {
			out = append(out, &pb.ArtifactTask{ArtifactId: a.GetName(), RunId: req.RunID, TaskId: taskID,
				Type: src.typ, Producer: producer(src.producer, req.IterationIndex), Key: name})
		}
	}
	return out
}
