package mlmdserver

import (
	"context"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
)

// PutArtifacts creates artifacts without id and updates those with one, all
// or nothing.
func (s *Server) PutArtifacts(_ context.Context, req *mlmd.PutArtifactsRequest) (*mlmd.PutArtifactsResponse, error) {
	if err := checkNoMask(req.GetUpdateMask()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutArtifactsResponse{}
	err := s.write(func(st *store) (err error) {
		if req.GetOptions().GetAbortIfLatestUpdatedTimeChanged() {
			if err := checkNotUpdatedSince(st, req.GetArtifacts()); err != nil {
				return err
			}
		}
		resp.ArtifactIds, err = putNodes(st, st.artifacts, req.GetArtifacts())
		return err
	})
	return answer(resp, err, "PutArtifacts")
}

// checkNotUpdatedSince implements abort_if_latest_updated_time_changed: an
// update must carry the stored last_update_time_since_epoch. The store's
// clock already guarantees that a successful update moves it forward.
func checkNotUpdatedSince(st *store, artifacts []*mlmd.Artifact) error {
	for i, a := range artifacts {
		if !has(a, fieldID) {
			continue
		}
		stored, ok := st.artifacts.get(a.GetId())
		if ok && stored.GetLastUpdateTimeSinceEpoch() != a.GetLastUpdateTimeSinceEpoch() {
			return errorf(codes.FailedPrecondition,
				"artifacts[%d]: abort_if_latest_updated_time_changed is set and artifact %d was updated at %d, not %d",
				i, a.GetId(), stored.GetLastUpdateTimeSinceEpoch(), a.GetLastUpdateTimeSinceEpoch())
		}
	}
	return nil
}

// GetArtifactsByID returns the artifacts that exist, ascending by id.
func (s *Server) GetArtifactsByID(_ context.Context, req *mlmd.GetArtifactsByIDRequest) (*mlmd.GetArtifactsByIDResponse, error) {
	resp := &mlmd.GetArtifactsByIDResponse{}
	err := s.read(func(st *store) error {
		resp.Artifacts = readByIDs(st, st.artifacts, req.GetArtifactIds())
		if req.GetPopulateArtifactTypes() {
			resp.ArtifactTypes = typesByID(st.artifactTypes, typeIDsOf(resp.Artifacts))
		}
		return nil
	})
	return answer(resp, err, "GetArtifactsByID")
}

func typeIDsOf(artifacts []*mlmd.Artifact) []int64 {
	ids := make([]int64, 0, len(artifacts))
	for _, a := range artifacts {
		ids = append(ids, a.GetTypeId())
	}
	return uniqueSorted(ids)
}

// GetArtifactByTypeAndName answers an empty response, not an error, when
// the type or the artifact does not exist.
func (s *Server) GetArtifactByTypeAndName(_ context.Context, req *mlmd.GetArtifactByTypeAndNameRequest) (*mlmd.GetArtifactByTypeAndNameResponse, error) {
	resp := &mlmd.GetArtifactByTypeAndNameResponse{}
	err := s.read(func(st *store) error {
		if a, ok := nodeByTypeAndName(st, st.artifacts, req.GetTypeName(), req.GetTypeVersion(), req.GetArtifactName()); ok {
			resp.Artifact = a
		}
		return nil
	})
	return answer(resp, err, "GetArtifactByTypeAndName")
}

// GetArtifactsByType lists the artifacts of one type.
func (s *Server) GetArtifactsByType(_ context.Context, req *mlmd.GetArtifactsByTypeRequest) (*mlmd.GetArtifactsByTypeResponse, error) {
	resp := &mlmd.GetArtifactsByTypeResponse{}
	err := s.read(func(st *store) (err error) {
		resp.Artifacts, resp.NextPageToken, err = nodesByType(st, st.artifacts, req.GetTypeName(), req.GetTypeVersion(), req.GetOptions())
		return err
	})
	return answer(resp, err, "GetArtifactsByType")
}

// GetArtifacts lists all artifacts, one page at a time when options are set.
func (s *Server) GetArtifacts(_ context.Context, req *mlmd.GetArtifactsRequest) (*mlmd.GetArtifactsResponse, error) {
	resp := &mlmd.GetArtifactsResponse{}
	err := s.read(func(st *store) error {
		rows, token, err := selectNodes(st, st.artifacts, st.artifacts.allIDs(), req.GetOptions())
		resp.Artifacts, resp.NextPageToken = rows, tokenOrNil(token)
		return err
	})
	return answer(resp, err, "GetArtifacts")
}

// GetArtifactsByURI returns the artifacts with any of the given URIs.
func (s *Server) GetArtifactsByURI(_ context.Context, req *mlmd.GetArtifactsByURIRequest) (*mlmd.GetArtifactsByURIResponse, error) {
	resp := &mlmd.GetArtifactsByURIResponse{}
	err := s.read(func(st *store) error {
		uris := map[string]bool{}
		for _, u := range req.GetUris() {
			uris[u] = true
		}
		var ids []int64
		for id, a := range st.artifacts.rows {
			if uris[a.GetUri()] {
				ids = append(ids, id)
			}
		}
		resp.Artifacts = readByIDs(st, st.artifacts, ids)
		return nil
	})
	return answer(resp, err, "GetArtifactsByURI")
}

// GetArtifactsByExternalIds answers NOT_FOUND when none matches.
func (s *Server) GetArtifactsByExternalIds(_ context.Context, req *mlmd.GetArtifactsByExternalIdsRequest) (*mlmd.GetArtifactsByExternalIdsResponse, error) {
	resp := &mlmd.GetArtifactsByExternalIdsResponse{}
	err := s.read(func(st *store) (err error) {
		resp.Artifacts, err = readByExternalIDs(st, st.artifacts, req.GetExternalIds())
		return err
	})
	return answer(resp, err, "GetArtifactsByExternalIds")
}

// GetArtifactsByContext lists the artifacts attributed to a context; an
// unknown context has none.
func (s *Server) GetArtifactsByContext(_ context.Context, req *mlmd.GetArtifactsByContextRequest) (*mlmd.GetArtifactsByContextResponse, error) {
	resp := &mlmd.GetArtifactsByContextResponse{}
	err := s.read(func(st *store) error {
		ids := st.attributions.from(req.GetContextId())
		if len(ids) == 0 {
			return nil
		}
		rows, token, err := selectNodes(st, st.artifacts, ids, req.GetOptions())
		resp.Artifacts, resp.NextPageToken = rows, tokenOrNil(token)
		return err
	})
	return answer(resp, err, "GetArtifactsByContext")
}
