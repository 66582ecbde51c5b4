package kfpapitest

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// taskArtifacts builds a task's inputs.artifacts and outputs.artifacts
// from its links, as KFP does on read: output types go to outputs, the rest
// to inputs; links with the same key, type and producer task form one
// IOArtifact, except that ITERATOR_OUTPUT links split by iteration; groups
// are ordered by key, type, producer task and iteration.
func (s *Server) taskArtifacts(t *pb.PipelineTask) (in, out []*pb.PipelineTask_InputOutputs_IOArtifact) {
	type group struct {
		key      string
		typ      pb.IOType
		producer string
		iter     *int64 // only for ITERATOR_OUTPUT
		links    []*linkRecord
	}
	var groups []*group
	for _, r := range s.taskLinks[t.GetTaskId()] {
		l := r.link
		if s.artifacts[l.GetArtifactId()] == nil {
			continue
		}
		g := &group{key: l.GetKey(), typ: l.GetType(), producer: l.GetProducer().GetTaskName()}
		if l.GetType() == pb.IOType_ITERATOR_OUTPUT {
			g.iter = l.GetProducer().Iteration
		}
		i := slices.IndexFunc(groups, func(o *group) bool {
			return o.key == g.key && o.typ == g.typ && o.producer == g.producer && equalIter(o.iter, g.iter)
		})
		if i < 0 {
			groups = append(groups, g)
			i = len(groups) - 1
		}
		groups[i].links = append(groups[i].links, r)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.typ, b.typ), cmp.Compare(a.producer, b.producer), compareIter(a.iter, b.iter))
	})
	for _, g := range groups {
		// Within a group KFP orders by iteration, then artifact id (random).
		slices.SortStableFunc(g.links, func(a, b *linkRecord) int {
			return compareIter(a.link.GetProducer().Iteration, b.link.GetProducer().Iteration)
		})
		first := g.links[0].link
		io := &pb.PipelineTask_InputOutputs_IOArtifact{ArtifactKey: g.key, Type: g.typ}
		if first.GetProducer() != nil {
			io.Producer = proto.Clone(first.GetProducer()).(*pb.IOProducer)
		}
		for _, r := range g.links {
			io.Artifacts = append(io.Artifacts, proto.Clone(s.artifacts[r.link.GetArtifactId()].artifact).(*pb.Artifact))
		}
		if isOutput(g.typ) {
			out = append(out, io)
		} else {
			in = append(in, io)
		}
	}
	return in, out
}

func isOutput(t pb.IOType) bool {
	switch t {
	case pb.IOType_OUTPUT, pb.IOType_ITERATOR_OUTPUT, pb.IOType_ONE_OF_OUTPUT, pb.IOType_TASK_FINAL_STATUS_OUTPUT:
		return true
	}
	return false
}

func equalIter(a, b *int64) bool { return compareIter(a, b) == 0 }

// compareIter puts "no iteration" first.
func compareIter(a, b *int64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}
