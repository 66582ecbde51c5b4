package iterate

import (
	"fmt"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
)

// Loop is a ParallelFor task's iterator, over parameters or artifacts.
type Loop struct {
	ItemInput string // the input each iteration receives its item under
	Items     string // the input holding all items (raw items are kept under ItemInput)
	Artifacts bool
}

// LoopOf reads a task's iterator; the zero Loop when it has none.
func LoopOf(task *pipelinespec.PipelineTaskSpec) Loop {
	if it := task.GetArtifactIterator(); it != nil {
		return Loop{ItemInput: it.GetItemInput(), Items: it.GetItems().GetInputArtifact(), Artifacts: true}
	}
	if it := task.GetParameterIterator(); it != nil {
		items := it.GetItems().GetInputParameter()
		if items == "" {
			items = it.GetItemInput() // raw items are stored under the item input
		}
		return Loop{ItemInput: it.GetItemInput(), Items: items}
	}
	return Loop{}
}

// Pick puts item i of the loop's items under its item input: what an
// iteration's tasks see of the loop's inputs. in is changed in place.
func (l Loop) Pick(in *pipelinespec.ExecutorInput_Inputs, i int) error {
	if l.Artifacts {
		item, err := Artifact(in.GetArtifacts()[l.Items], i)
		if err != nil {
			return err
		}
		in.Artifacts[l.ItemInput] = item
		return nil
	}
	all, ok := in.GetParameterValues()[l.Items]
	if !ok {
		return fmt.Errorf("the loop has no input %q", l.Items)
	}
	item, err := Param(all, i)
	if err != nil {
		return err
	}
	in.ParameterValues[l.ItemInput] = item
	return nil
}
