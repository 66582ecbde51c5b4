package kfpapitest

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// mergeParameters merges update into stored as KFP does: a parameter
// replaces the stored one with the same identity (type, key, producer task
// and iteration), otherwise it is added. Collected and iterator values
// without an iteration also count their value in the identity, so that
// values propagated from different iterations all stay. KFP's result order
// is unspecified (a Go map); here replacements stay in place and new
// parameters follow in update order.
func mergeParameters(stored, update []*pb.PipelineTask_InputOutputs_IOParameter) []*pb.PipelineTask_InputOutputs_IOParameter {
	out := make([]*pb.PipelineTask_InputOutputs_IOParameter, 0, len(stored)+len(update))
	at := map[string]int{}
	put := func(p *pb.PipelineTask_InputOutputs_IOParameter) {
		k := parameterIdentity(p)
		c := proto.Clone(p).(*pb.PipelineTask_InputOutputs_IOParameter)
		if i, ok := at[k]; ok {
			out[i] = c
			return
		}
		at[k] = len(out)
		out = append(out, c)
	}
	for _, p := range stored {
		put(p)
	}
	for _, p := range update {
		put(p)
	}
	return out
}

func parameterIdentity(p *pb.PipelineTask_InputOutputs_IOParameter) string {
	k := fmt.Sprintf("%d %q", p.GetType(), p.GetParameterKey())
	if p.Producer != nil {
		k += fmt.Sprintf(" producer %q", p.GetProducer().GetTaskName())
		if p.GetProducer().Iteration != nil {
			k += fmt.Sprintf(" %d", p.GetProducer().GetIteration())
		}
	}
	if valueInIdentity(p) {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(p.GetValue())
		k += fmt.Sprintf(" value %x", b)
	}
	return k
}

func valueInIdentity(p *pb.PipelineTask_InputOutputs_IOParameter) bool {
	switch p.GetType() {
	case pb.IOType_COLLECTED_INPUTS, pb.IOType_ITERATOR_INPUT, pb.IOType_ITERATOR_INPUT_RAW, pb.IOType_ITERATOR_OUTPUT:
		return p.Producer == nil || p.GetProducer().Iteration == nil
	}
	return false
}
