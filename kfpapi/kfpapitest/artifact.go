package kfpapitest

import (
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

type artifactRecord struct {
	seq      int
	artifact *pb.Artifact
}

// CreateArtifact stores an artifact as an output of its task (an OUTPUT
// link, ITERATOR_OUTPUT with the iteration when iteration_index is set,
// keyed by producer_key). reuse_if_exists shares an equal artifact of the
// namespace instead, still adding this task's link.
func (s *Server) CreateArtifact(_ context.Context, req *pb.CreateArtifactRequest) (*pb.Artifact, error) {
	if err := checkCreateArtifact(req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	task, err := s.artifactOwner(req)
	if err != nil {
		return nil, err
	}
	link := outputLink(req, task)
	var a *artifactRecord
	if req.GetReuseIfExists() {
		a = s.findEqualArtifact(s.newArtifact(req.GetArtifact()))
	}
	if a == nil {
		a = s.storeArtifact(req.GetArtifact())
	}
	link.ArtifactId = a.artifact.GetArtifactId()
	// A repeated find-or-create of the same output keeps its one link.
	if s.findLink(link) == nil {
		s.storeLink(link)
	}
	return proto.Clone(a.artifact).(*pb.Artifact), nil
}

// CreateArtifactsBulk is CreateArtifact for several artifacts of one
// namespace, all or nothing; reuse_if_exists is refused, as by KFP.
func (s *Server) CreateArtifactsBulk(_ context.Context, req *pb.CreateArtifactsBulkRequest) (*pb.CreateArtifactsBulkResponse, error) {
	reqs := req.GetArtifacts()
	if len(reqs) == 0 {
		return nil, invalid("at least one artifact is required")
	}
	for _, r := range reqs {
		if err := checkCreateArtifact(r); err != nil {
			return nil, err
		}
		if s.namespace(r.GetArtifact().GetNamespace()) != s.namespace(reqs[0].GetArtifact().GetNamespace()) {
			return nil, invalid("all artifacts must be in one namespace")
		}
		if r.GetReuseIfExists() {
			return nil, invalid("reuse_if_exists is not supported in bulk")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	links := make([]*pb.ArtifactTask, len(reqs))
	for i, r := range reqs {
		task, err := s.artifactOwner(r)
		if err != nil {
			return nil, err
		}
		links[i] = outputLink(r, task)
	}
	out := &pb.CreateArtifactsBulkResponse{}
	for i, r := range reqs {
		a := s.storeArtifact(r.GetArtifact())
		links[i].ArtifactId = a.artifact.GetArtifactId()
		s.storeLink(links[i])
		out.Artifacts = append(out.Artifacts, proto.Clone(a.artifact).(*pb.Artifact))
	}
	return out, nil
}

// checkCreateArtifact holds KFP's request checks.
func checkCreateArtifact(req *pb.CreateArtifactRequest) error {
	a := req.GetArtifact()
	switch {
	case a == nil:
		return invalid("artifact is required")
	case a.GetArtifactId() != "":
		return invalid("artifact_id must not be set on create")
	case a.GetNamespace() == "":
		return invalid("artifact namespace is required")
	case a.GetType() == pb.Artifact_TYPE_UNSPECIFIED:
		return invalid("artifact type is required")
	case a.GetName() == "":
		return invalid("artifact name is required")
	case req.GetRunId() == "" || req.GetTaskId() == "":
		return invalid("run_id and task_id are required")
	case req.GetProducerKey() == "":
		return invalid("producer_key is required")
	case a.GetType() == pb.Artifact_Metric && a.NumberValue == nil:
		return invalid("number_value is required for a Metric artifact")
	case (a.GetType() == pb.Artifact_ClassificationMetric || a.GetType() == pb.Artifact_SlicedClassificationMetric) && a.GetMetadata() == nil:
		return invalid("metadata is required for a %s artifact", a.GetType())
	}
	return nil
}

// artifactOwner is the task the artifact is an output of: it must be in the
// request's run and, in multi-user mode, in the artifact's namespace.
func (s *Server) artifactOwner(req *pb.CreateArtifactRequest) (*taskRecord, error) {
	task, err := s.taskOf(req.GetTaskId(), req.GetRunId())
	if err != nil {
		return nil, err
	}
	if ns := s.namespace(req.GetArtifact().GetNamespace()); ns != s.namespace(task.namespace) {
		return nil, invalid("artifact namespace %q differs from the task's %q", ns, task.namespace)
	}
	return task, nil
}

func outputLink(req *pb.CreateArtifactRequest, task *taskRecord) *pb.ArtifactTask {
	l := &pb.ArtifactTask{
		TaskId: task.task.GetTaskId(), RunId: task.task.GetRunId(), Type: pb.IOType_OUTPUT,
		Producer: &pb.IOProducer{TaskName: task.task.GetName()}, Key: req.GetProducerKey(),
	}
	if req.IterationIndex != nil {
		l.Type = pb.IOType_ITERATOR_OUTPUT
		l.Producer.Iteration = proto.Int64(req.GetIterationIndex())
	}
	return l
}

// newArtifact is what KFP stores: a fresh id, the (mode's) namespace and a
// whole-second create time.
func (s *Server) newArtifact(a *pb.Artifact) *pb.Artifact {
	c := proto.Clone(a).(*pb.Artifact)
	c.ArtifactId = newID()
	c.Namespace = s.namespace(c.GetNamespace())
	c.CreatedAt = &timestamppb.Timestamp{Seconds: s.nowSeconds()}
	return c
}

func (s *Server) storeArtifact(a *pb.Artifact) *artifactRecord {
	r := &artifactRecord{seq: s.nextSeq(), artifact: s.newArtifact(a)}
	s.artifacts[r.artifact.GetArtifactId()] = r
	s.artList = append(s.artList, r)
	return r
}

// findEqualArtifact is KFP's reuse identity: namespace, type, URI, name,
// description and metadata.
func (s *Server) findEqualArtifact(a *pb.Artifact) *artifactRecord {
	for _, r := range s.artList {
		o := r.artifact
		if o.GetNamespace() == a.GetNamespace() && o.GetType() == a.GetType() && o.Uri != nil == (a.Uri != nil) &&
			o.GetUri() == a.GetUri() && o.GetName() == a.GetName() && o.GetDescription() == a.GetDescription() &&
			proto.Equal(&pb.Artifact{Metadata: o.GetMetadata()}, &pb.Artifact{Metadata: a.GetMetadata()}) {
			return r
		}
	}
	return nil
}

// GetArtifact answers a stored artifact.
func (s *Server) GetArtifact(_ context.Context, req *pb.GetArtifactRequest) (*pb.Artifact, error) {
	if req.GetArtifactId() == "" {
		return nil, invalid("artifact_id is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.artifacts[req.GetArtifactId()]
	if r == nil {
		return nil, notFound("artifact", req.GetArtifactId())
	}
	return proto.Clone(r.artifact).(*pb.Artifact), nil
}
