package kfpapitest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// BoundRunIDMetadataKey is the metadata with which KFP's driver binds a
// FindCachedTask call to its run (the run-scoped token needs a run).
const BoundRunIDMetadataKey = "x-kfp-bound-run-id"

// ListTasks lists a run's tasks, or a parent's children within the run,
// by create time. Of KFP's filters, EQUALS and IN on "name" and
// "parent_task_id" are implemented (ANDed, as KFP does); any other
// predicate is InvalidArgument.
func (s *Server) ListTasks(_ context.Context, req *pb.ListTasksRequest) (*pb.ListTasksResponse, error) {
	runID, parentID := req.GetRunId(), req.GetParentId()
	if runID == "" {
		return nil, invalid("run_id is required")
	}
	keep, err := taskFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	desc, err := createOrder(req.GetOrderBy())
	if err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if parentID != "" {
		if _, err := s.taskOf(parentID, runID); err != nil {
			return nil, err
		}
	}
	var matches []*taskRecord
	candidates := s.taskList
	if parentID != "" {
		candidates = s.byParent[parentID]
	}
	for _, r := range candidates {
		if r.task.GetRunId() == runID && (parentID == "" || r.task.GetParentTaskId() == parentID) && keep(r.task) {
			matches = append(matches, r)
		}
	}
	sortByCreate(matches, desc)
	query := fmt.Sprintf("tasks %q %q %q %v", runID, parentID, req.GetFilter(), desc)
	got, next, err := page(matches, func(r *taskRecord) int { return r.seq }, query, req.GetPageToken(), size)
	if err != nil {
		return nil, err
	}
	out := &pb.ListTasksResponse{NextPageToken: next, TotalSize: int32(len(matches))}
	for _, r := range got {
		out.Tasks = append(out.Tasks, s.view(r, true, true))
	}
	return out, nil
}

// createOrder parses order_by: KFP's default, create time ascending, is all
// that is implemented.
func createOrder(orderBy string) (desc bool, err error) {
	switch strings.Join(strings.Fields(orderBy), " ") {
	case "", "create_time", "create_time asc":
		return false, nil
	case "create_time desc":
		return true, nil
	}
	return false, invalid("kfpapitest: order_by %q is not implemented", orderBy)
}

// sortByCreate orders by create time, then insertion (where KFP compares
// random UUIDs).
func sortByCreate(rs []*taskRecord, desc bool) {
	slices.SortStableFunc(rs, func(a, b *taskRecord) int {
		c := a.task.GetCreateTime().GetSeconds() - b.task.GetCreateTime().GetSeconds()
		if c == 0 {
			c = int64(a.seq - b.seq)
		}
		if desc {
			c = -c
		}
		switch {
		case c < 0:
			return -1
		case c > 0:
			return 1
		}
		return 0
	})
}

// FindCachedTask answers the newest SUCCEEDED task with the fingerprint in
// the namespace (any namespace when empty in single-user mode), or no task.
// CACHED, SKIPPED and running tasks never match. A bound run (metadata
// BoundRunIDMetadataKey) must exist and be in the namespace.
func (s *Server) FindCachedTask(ctx context.Context, req *pb.FindCachedTaskRequest) (*pb.FindCachedTaskResponse, error) {
	if req.GetCacheFingerprint() == "" {
		return nil, invalid("cache_fingerprint is required")
	}
	ns := s.namespace(req.GetNamespace())
	if ns == "" && !s.opts.SingleUser {
		return nil, invalid("namespace is required in multi-user mode")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bound := boundRunID(ctx); bound != "" && ns != "" {
		run := s.runs[bound]
		if run == nil {
			return nil, notFound("run", bound)
		}
		if run.namespace != ns {
			return nil, status.Errorf(codes.PermissionDenied, "bound run %s is not in namespace %s", bound, ns)
		}
	}
	var best *taskRecord
	for _, r := range s.taskList {
		if r.task.GetCacheFingerprint() != req.GetCacheFingerprint() || r.task.GetState() != pb.PipelineTask_SUCCEEDED {
			continue
		}
		if ns != "" && s.namespace(r.namespace) != ns {
			continue
		}
		if best == nil || newer(r, best) {
			best = r
		}
	}
	if best == nil {
		return &pb.FindCachedTaskResponse{}, nil
	}
	return &pb.FindCachedTaskResponse{Task: s.view(best, false, true)}, nil
}

func newer(a, b *taskRecord) bool {
	as, bs := a.task.GetCreateTime().GetSeconds(), b.task.GetCreateTime().GetSeconds()
	return as > bs || as == bs && a.seq > b.seq
}

func boundRunID(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(BoundRunIDMetadataKey); len(v) > 0 {
		return v[0]
	}
	return ""
}

// taskFilter parses a ListTasks filter as KFP's server does (URL query
// unescaping, then the v2beta1 Filter's JSON) into a predicate.
func taskFilter(encoded string) (func(*pb.PipelineTask) bool, error) {
	if encoded == "" {
		return func(*pb.PipelineTask) bool { return true }, nil
	}
	raw, err := url.QueryUnescape(encoded)
	if err != nil {
		return nil, invalid("filter: %v", err)
	}
	f := &pb.Filter{}
	if err := protojson.Unmarshal([]byte(raw), f); err != nil {
		return nil, invalid("filter %q: %v", raw, err)
	}
	var tests []func(*pb.PipelineTask) bool
	for _, p := range f.GetPredicates() {
		var field func(*pb.PipelineTask) string
		switch p.GetKey() {
		case "name":
			field = (*pb.PipelineTask).GetName
		case "parent_task_id":
			field = (*pb.PipelineTask).GetParentTaskId
		default:
			return nil, invalid("kfpapitest: filtering tasks on %q is not implemented", p.GetKey())
		}
		var values []string
		switch p.GetOperation() {
		case pb.Predicate_EQUALS:
			v, ok := p.GetValue().(*pb.Predicate_StringValue)
			if !ok {
				return nil, invalid("filter on %q: EQUALS needs a string_value", p.GetKey())
			}
			values = []string{v.StringValue}
		case pb.Predicate_IN:
			v, ok := p.GetValue().(*pb.Predicate_StringValues_)
			if !ok {
				return nil, invalid("filter on %q: IN needs string_values", p.GetKey())
			}
			values = v.StringValues.GetValues()
		default:
			return nil, invalid("kfpapitest: filter operation %s is not implemented", p.GetOperation())
		}
		tests = append(tests, func(t *pb.PipelineTask) bool { return slices.Contains(values, field(t)) })
	}
	return func(t *pb.PipelineTask) bool {
		for _, test := range tests {
			if !test(t) {
				return false
			}
		}
		return true
	}, nil
}
