package mlmdserver

import (
	"context"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
)

// PutContexts creates contexts without id and updates those with one, all
// or nothing. A second context with the same (type_id, name) is
// ALREADY_EXISTS, which KFP's get-or-create relies on.
func (s *Server) PutContexts(_ context.Context, req *mlmd.PutContextsRequest) (*mlmd.PutContextsResponse, error) {
	if err := checkNoMask(req.GetUpdateMask()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutContextsResponse{}
	err := s.write(func(st *store) (err error) {
		resp.ContextIds, err = putNodes(st, st.contexts, req.GetContexts())
		return err
	})
	return answer(resp, err, "PutContexts")
}

// GetContextsByID returns the contexts that exist, ascending by id.
func (s *Server) GetContextsByID(_ context.Context, req *mlmd.GetContextsByIDRequest) (*mlmd.GetContextsByIDResponse, error) {
	resp := &mlmd.GetContextsByIDResponse{}
	err := s.read(func(st *store) error {
		resp.Contexts = readByIDs(st, st.contexts, req.GetContextIds())
		return nil
	})
	return answer(resp, err, "GetContextsByID")
}

// GetContextByTypeAndName answers an empty response, not an error, when the
// type or the context does not exist.
func (s *Server) GetContextByTypeAndName(_ context.Context, req *mlmd.GetContextByTypeAndNameRequest) (*mlmd.GetContextByTypeAndNameResponse, error) {
	resp := &mlmd.GetContextByTypeAndNameResponse{}
	err := s.read(func(st *store) error {
		if c, ok := nodeByTypeAndName(st, st.contexts, req.GetTypeName(), req.GetTypeVersion(), req.GetContextName()); ok {
			resp.Context = c
		}
		return nil
	})
	return answer(resp, err, "GetContextByTypeAndName")
}

// GetContextsByType lists the contexts of one type.
func (s *Server) GetContextsByType(_ context.Context, req *mlmd.GetContextsByTypeRequest) (*mlmd.GetContextsByTypeResponse, error) {
	resp := &mlmd.GetContextsByTypeResponse{}
	err := s.read(func(st *store) (err error) {
		resp.Contexts, resp.NextPageToken, err = nodesByType(st, st.contexts, req.GetTypeName(), req.GetTypeVersion(), req.GetOptions())
		return err
	})
	return answer(resp, err, "GetContextsByType")
}

// GetContexts lists all contexts, one page at a time when options are set.
func (s *Server) GetContexts(_ context.Context, req *mlmd.GetContextsRequest) (*mlmd.GetContextsResponse, error) {
	resp := &mlmd.GetContextsResponse{}
	err := s.read(func(st *store) error {
		rows, token, err := selectNodes(st, st.contexts, st.contexts.allIDs(), req.GetOptions())
		resp.Contexts, resp.NextPageToken = rows, tokenOrNil(token)
		return err
	})
	return answer(resp, err, "GetContexts")
}

// GetContextsByExternalIds answers NOT_FOUND when none matches.
func (s *Server) GetContextsByExternalIds(_ context.Context, req *mlmd.GetContextsByExternalIdsRequest) (*mlmd.GetContextsByExternalIdsResponse, error) {
	resp := &mlmd.GetContextsByExternalIdsResponse{}
	err := s.read(func(st *store) (err error) {
		resp.Contexts, err = readByExternalIDs(st, st.contexts, req.GetExternalIds())
		return err
	})
	return answer(resp, err, "GetContextsByExternalIds")
}

// GetContextsByExecution returns the contexts an execution is associated
// with. Like MLMD it answers NOT_FOUND when there are none.
func (s *Server) GetContextsByExecution(_ context.Context, req *mlmd.GetContextsByExecutionRequest) (*mlmd.GetContextsByExecutionResponse, error) {
	resp := &mlmd.GetContextsByExecutionResponse{}
	err := s.read(func(st *store) error {
		ids := st.associations.to(req.GetExecutionId())
		if len(ids) == 0 {
			return errorf(codes.NotFound, "no contexts found for execution_id %d", req.GetExecutionId())
		}
		resp.Contexts = readByIDs(st, st.contexts, ids)
		return nil
	})
	return answer(resp, err, "GetContextsByExecution")
}

// GetContextsByArtifact returns the contexts an artifact is attributed to.
// Like MLMD it answers NOT_FOUND when there are none.
func (s *Server) GetContextsByArtifact(_ context.Context, req *mlmd.GetContextsByArtifactRequest) (*mlmd.GetContextsByArtifactResponse, error) {
	resp := &mlmd.GetContextsByArtifactResponse{}
	err := s.read(func(st *store) error {
		ids := st.attributions.to(req.GetArtifactId())
		if len(ids) == 0 {
			return errorf(codes.NotFound, "no contexts found for artifact_id %d", req.GetArtifactId())
		}
		resp.Contexts = readByIDs(st, st.contexts, ids)
		return nil
	})
	return answer(resp, err, "GetContextsByArtifact")
}
