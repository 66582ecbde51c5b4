package kfpapitest

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// ListArtifacts lists a namespace's artifacts (every namespace when empty)
// by creation. Of filters only KFP's importer lookup is implemented: a
// single EQUALS predicate on "uri", which, as in KFP, answers every match
// on one page.
func (s *Server) ListArtifacts(_ context.Context, req *pb.ListArtifactRequest) (*pb.ListArtifactResponse, error) {
	uri, byURI, err := uriFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	if req.GetSortBy() != "" {
		return nil, invalid("kfpapitest: ListArtifacts sort_by is not implemented")
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	ns := s.namespace(req.GetNamespace())
	s.mu.Lock()
	defer s.mu.Unlock()
	var matches []*artifactRecord
	for _, r := range s.artList {
		if (ns == "" || r.artifact.GetNamespace() == ns) && (!byURI || r.artifact.GetUri() == uri) {
			matches = append(matches, r)
		}
	}
	out := &pb.ListArtifactResponse{TotalSize: int32(len(matches))}
	if !byURI {
		matches, out.NextPageToken, err = page(matches, func(r *artifactRecord) int { return r.seq },
			fmt.Sprintf("artifacts %q", ns), req.GetPageToken(), size)
		if err != nil {
			return nil, err
		}
	}
	for _, r := range matches {
		out.Artifacts = append(out.Artifacts, proto.Clone(r.artifact).(*pb.Artifact))
	}
	return out, nil
}

// uriFilter parses the filter JSON; anything but no filter or one non-empty
// uri EQUALS predicate is refused.
func uriFilter(filter string) (uri string, ok bool, err error) {
	if filter == "" {
		return "", false, nil
	}
	var f pb.Filter
	if err := protojson.Unmarshal([]byte(filter), &f); err != nil {
		return "", false, invalid("filter: %v", err)
	}
	if ps := f.GetPredicates(); len(ps) == 1 && ps[0].GetKey() == "uri" &&
		ps[0].GetOperation() == pb.Predicate_EQUALS && ps[0].GetStringValue() != "" {
		return ps[0].GetStringValue(), true, nil
	}
	return "", false, invalid("kfpapitest: only a uri EQUALS filter is implemented, got %s", filter)
}
