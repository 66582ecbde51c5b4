package kfpapitest

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

type linkRecord struct {
	seq  int
	link *pb.ArtifactTask
}

// CreateArtifactTask links an existing artifact to a task of its run.
func (s *Server) CreateArtifactTask(_ context.Context, req *pb.CreateArtifactTaskRequest) (*pb.ArtifactTask, error) {
	if req.GetArtifactTask() == nil {
		return nil, invalid("artifact_task is required")
	}
	out, err := s.createLinks([]*pb.ArtifactTask{req.GetArtifactTask()})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CreateArtifactTasksBulk links several, all in one run and namespace, all
// or nothing.
func (s *Server) CreateArtifactTasksBulk(_ context.Context, req *pb.CreateArtifactTasksBulkRequest) (*pb.CreateArtifactTasksBulkResponse, error) {
	if len(req.GetArtifactTasks()) == 0 {
		return nil, invalid("at least one artifact task is required")
	}
	out, err := s.createLinks(req.GetArtifactTasks())
	if err != nil {
		return nil, err
	}
	return &pb.CreateArtifactTasksBulkResponse{ArtifactTasks: out}, nil
}

func (s *Server) createLinks(in []*pb.ArtifactTask) ([]*pb.ArtifactTask, error) {
	for _, l := range in {
		if err := checkLink(l); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, l := range in {
		task, err := s.taskOf(l.GetTaskId(), l.GetRunId())
		if err != nil {
			return nil, err
		}
		a := s.artifacts[l.GetArtifactId()]
		if a == nil {
			return nil, notFound("artifact", l.GetArtifactId())
		}
		if s.namespace(a.artifact.GetNamespace()) != s.namespace(task.namespace) {
			return nil, invalid("artifact namespace %q differs from the task's %q", a.artifact.GetNamespace(), task.namespace)
		}
		if l.GetRunId() != in[0].GetRunId() {
			return nil, invalid("all artifact tasks must be in one run")
		}
		// KFP's unique index (artifact, task, type, iteration, key) refuses a
		// second equal link with a database error.
		k := linkIdentity(l)
		if seen[k] || s.findLink(l) != nil {
			return nil, status.Errorf(codes.Internal, "duplicate artifact task %s", k)
		}
		seen[k] = true
	}
	out := make([]*pb.ArtifactTask, len(in))
	for i, l := range in {
		out[i] = proto.Clone(s.storeLink(l)).(*pb.ArtifactTask)
	}
	return out, nil
}

// checkLink holds KFP's request checks: every field but the id is required.
func checkLink(l *pb.ArtifactTask) error {
	switch {
	case l.GetArtifactId() == "" || l.GetTaskId() == "" || l.GetRunId() == "":
		return invalid("artifact_id, task_id and run_id are required")
	case l.GetType() == pb.IOType_UNSPECIFIED:
		return invalid("type is required")
	case l.GetProducer() == nil:
		return invalid("producer is required")
	case l.GetKey() == "":
		return invalid("key is required")
	}
	return nil
}

func linkIdentity(l *pb.ArtifactTask) string {
	iter := int64(-1)
	if l.GetProducer().Iteration != nil {
		iter = l.GetProducer().GetIteration()
	}
	return fmt.Sprintf("%q %q %d %d %q", l.GetArtifactId(), l.GetTaskId(), l.GetType(), iter, l.GetKey())
}

func (s *Server) findLink(l *pb.ArtifactTask) *linkRecord {
	k := linkIdentity(l)
	for _, r := range s.taskLinks[l.GetTaskId()] { // the identity includes the task
		if linkIdentity(r.link) == k {
			return r
		}
	}
	return nil
}

func (s *Server) storeLink(l *pb.ArtifactTask) *pb.ArtifactTask {
	c := proto.Clone(l).(*pb.ArtifactTask)
	c.Id = newID()
	r := &linkRecord{seq: s.nextSeq(), link: c}
	s.links = append(s.links, r)
	s.taskLinks[c.GetTaskId()] = append(s.taskLinks[c.GetTaskId()], r)
	return c
}

// ListArtifactTasks lists links matching every id list given (at least one
// is required), optionally of one type, in creation order.
func (s *Server) ListArtifactTasks(_ context.Context, req *pb.ListArtifactTasksRequest) (*pb.ListArtifactTasksResponse, error) {
	lists := [][]string{req.GetTaskIds(), req.GetRunIds(), req.GetArtifactIds()}
	if len(lists[0])+len(lists[1])+len(lists[2]) == 0 {
		return nil, invalid("one of task_ids, run_ids or artifact_ids is required")
	}
	for _, l := range lists {
		if slices.Contains(l, "") {
			return nil, invalid("ids must not be empty")
		}
	}
	if req.GetFilter() != "" || req.GetSortBy() != "" {
		return nil, invalid("kfpapitest: ListArtifactTasks filter and sort_by are not implemented")
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	in := func(ids []string, id string) bool { return len(ids) == 0 || slices.Contains(ids, id) }
	s.mu.Lock()
	defer s.mu.Unlock()
	var matches []*linkRecord
	for _, r := range s.links {
		l := r.link
		if in(lists[0], l.GetTaskId()) && in(lists[1], l.GetRunId()) && in(lists[2], l.GetArtifactId()) &&
			(req.GetType() == pb.IOType_UNSPECIFIED || l.GetType() == req.GetType()) {
			matches = append(matches, r)
		}
	}
	query := fmt.Sprintf("links %q %d", lists, req.GetType())
	got, next, err := page(matches, func(r *linkRecord) int { return r.seq }, query, req.GetPageToken(), size)
	if err != nil {
		return nil, err
	}
	out := &pb.ListArtifactTasksResponse{TotalSize: int32(len(matches)), NextPageToken: next}
	for _, r := range got {
		out.ArtifactTasks = append(out.ArtifactTasks, proto.Clone(r.link).(*pb.ArtifactTask))
	}
	return out, nil
}
