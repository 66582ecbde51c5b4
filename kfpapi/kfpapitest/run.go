package kfpapitest

import (
	"context"

	"google.golang.org/protobuf/proto"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// runRecord is a seeded run. manifest is the pipeline spec KFP stores with
// a run created from a pipeline version (it copies the version's spec at
// creation), which GetRun's FULL view returns in place of the reference.
type runRecord struct {
	namespace string
	run       *pb.Run // tasks and task_count are derived
	manifest  *pb.Run // pipeline_spec only, or nil
}

// AddRun seeds a run in namespace and returns a copy as stored. An empty
// run_id gets a UUID. If the run references a pipeline version seeded
// before with AddPipelineVersion, its spec becomes the run's stored
// manifest, as KFP does at run creation.
func (s *Server) AddRun(namespace string, run *pb.Run) *pb.Run {
	r := proto.Clone(run).(*pb.Run)
	if r.GetRunId() == "" {
		r.RunId = newID()
	}
	r.Tasks, r.TaskCount = nil, 0
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &runRecord{namespace: namespace, run: r}
	if ref := r.GetPipelineVersionReference(); ref != nil {
		if v := s.versions[versionKey{ref.GetPipelineId(), ref.GetPipelineVersionId()}]; v != nil && v.GetPipelineSpec() != nil {
			rec.manifest = &pb.Run{PipelineSource: &pb.Run_PipelineSpec{PipelineSpec: v.GetPipelineSpec()}}
		}
	}
	s.runs[r.GetRunId()] = rec
	return proto.Clone(r).(*pb.Run)
}

// AddPipelineVersion seeds a pipeline version for GetPipelineVersion (and
// for the manifest of runs added after it). An empty pipeline_version_id
// gets a UUID.
func (s *Server) AddPipelineVersion(v *pb.PipelineVersion) *pb.PipelineVersion {
	c := proto.Clone(v).(*pb.PipelineVersion)
	if c.GetPipelineVersionId() == "" {
		c.PipelineVersionId = newID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[versionKey{c.GetPipelineId(), c.GetPipelineVersionId()}] = c
	return proto.Clone(c).(*pb.PipelineVersion)
}

// GetRun answers the run; the FULL view adds every task, hydrated, and
// prefers the stored manifest to a version reference.
func (s *Server) GetRun(_ context.Context, req *pb.GetRunRequest) (*pb.Run, error) {
	if req.GetRunId() == "" {
		return nil, invalid("run_id is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.runs[req.GetRunId()]
	if rec == nil {
		return nil, notFound("run", req.GetRunId())
	}
	out := proto.Clone(rec.run).(*pb.Run)
	tasks := s.tasksOfRun(out.GetRunId())
	out.TaskCount = int32(len(tasks))
	if req.GetView() == pb.GetRunRequest_FULL {
		if rec.manifest != nil {
			out.PipelineSource = proto.Clone(rec.manifest).(*pb.Run).PipelineSource
		}
		for _, t := range tasks {
			out.Tasks = append(out.Tasks, s.view(t, true, true))
		}
	}
	return out, nil
}

// GetPipelineVersion answers a seeded version. KFP finds a version by its
// id alone; a pipeline_id that is set must match.
func (s *Server) GetPipelineVersion(_ context.Context, req *pb.GetPipelineVersionRequest) (*pb.PipelineVersion, error) {
	if req.GetPipelineVersionId() == "" {
		return nil, invalid("pipeline_version_id is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.versions {
		if k.version == req.GetPipelineVersionId() && (req.GetPipelineId() == "" || k.pipeline == req.GetPipelineId()) {
			return proto.Clone(v).(*pb.PipelineVersion), nil
		}
	}
	return nil, notFound("pipeline version", req.GetPipelineVersionId())
}
