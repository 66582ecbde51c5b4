package mlmdserver

import (
	"context"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// The type RPCs: thin transactions around typeTable and upsertType.

func checkAllFieldsMatch(allFieldsMatch bool) error {
	if !allFieldsMatch {
		return errorf(codes.Unimplemented, "all_fields_match=false is not supported: must match all fields")
	}
	return nil
}

// PutArtifactType upserts an artifact type by (name, version).
func (s *Server) PutArtifactType(_ context.Context, req *mlmd.PutArtifactTypeRequest) (*mlmd.PutArtifactTypeResponse, error) {
	if err := checkAllFieldsMatch(req.GetAllFieldsMatch()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutArtifactTypeResponse{}
	err := s.write(func(st *store) error {
		id, err := upsertType(st.artifactTypes, orEmpty(req.GetArtifactType()), req.GetCanAddFields(), req.GetCanOmitFields())
		resp.TypeId = proto.Int64(id)
		return err
	})
	return answer(resp, err, "PutArtifactType")
}

// PutExecutionType upserts an execution type by (name, version).
func (s *Server) PutExecutionType(_ context.Context, req *mlmd.PutExecutionTypeRequest) (*mlmd.PutExecutionTypeResponse, error) {
	if err := checkAllFieldsMatch(req.GetAllFieldsMatch()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutExecutionTypeResponse{}
	err := s.write(func(st *store) error {
		id, err := upsertType(st.executionTypes, orEmpty(req.GetExecutionType()), req.GetCanAddFields(), req.GetCanOmitFields())
		resp.TypeId = proto.Int64(id)
		return err
	})
	return answer(resp, err, "PutExecutionType")
}

// PutContextType upserts a context type by (name, version).
func (s *Server) PutContextType(_ context.Context, req *mlmd.PutContextTypeRequest) (*mlmd.PutContextTypeResponse, error) {
	if err := checkAllFieldsMatch(req.GetAllFieldsMatch()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutContextTypeResponse{}
	err := s.write(func(st *store) error {
		id, err := upsertType(st.contextTypes, orEmpty(req.GetContextType()), req.GetCanAddFields(), req.GetCanOmitFields())
		resp.TypeId = proto.Int64(id)
		return err
	})
	return answer(resp, err, "PutContextType")
}

// PutTypes upserts several types atomically.
func (s *Server) PutTypes(_ context.Context, req *mlmd.PutTypesRequest) (*mlmd.PutTypesResponse, error) {
	if err := checkAllFieldsMatch(req.GetAllFieldsMatch()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutTypesResponse{}
	add, omit := req.GetCanAddFields(), req.GetCanOmitFields()
	err := s.write(func(st *store) error {
		var err error
		if resp.ArtifactTypeIds, err = upsertTypes(st.artifactTypes, req.GetArtifactTypes(), add, omit); err != nil {
			return err
		}
		if resp.ExecutionTypeIds, err = upsertTypes(st.executionTypes, req.GetExecutionTypes(), add, omit); err != nil {
			return err
		}
		resp.ContextTypeIds, err = upsertTypes(st.contextTypes, req.GetContextTypes(), add, omit)
		return err
	})
	return answer(resp, err, "PutTypes")
}

func upsertTypes[T typeMsg](t *typeTable[T], reqs []T, canAdd, canOmit bool) ([]int64, error) {
	var ids []int64
	for i, req := range reqs {
		id, err := upsertType(t, req, canAdd, canOmit)
		if err != nil {
			return nil, wrap(err, "%s_types[%d]", t.kind, i)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// GetArtifactType answers NOT_FOUND when the type does not exist.
func (s *Server) GetArtifactType(_ context.Context, req *mlmd.GetArtifactTypeRequest) (*mlmd.GetArtifactTypeResponse, error) {
	resp := &mlmd.GetArtifactTypeResponse{}
	err := s.read(func(st *store) (err error) {
		resp.ArtifactType, err = getType(st.artifactTypes, req.GetTypeName(), req.GetTypeVersion())
		return err
	})
	return answer(resp, err, "GetArtifactType")
}

// GetExecutionType answers NOT_FOUND when the type does not exist.
func (s *Server) GetExecutionType(_ context.Context, req *mlmd.GetExecutionTypeRequest) (*mlmd.GetExecutionTypeResponse, error) {
	resp := &mlmd.GetExecutionTypeResponse{}
	err := s.read(func(st *store) (err error) {
		resp.ExecutionType, err = getType(st.executionTypes, req.GetTypeName(), req.GetTypeVersion())
		return err
	})
	return answer(resp, err, "GetExecutionType")
}

// GetContextType answers NOT_FOUND when the type does not exist.
func (s *Server) GetContextType(_ context.Context, req *mlmd.GetContextTypeRequest) (*mlmd.GetContextTypeResponse, error) {
	resp := &mlmd.GetContextTypeResponse{}
	err := s.read(func(st *store) (err error) {
		resp.ContextType, err = getType(st.contextTypes, req.GetTypeName(), req.GetTypeVersion())
		return err
	})
	return answer(resp, err, "GetContextType")
}

// GetArtifactTypes lists all artifact types.
func (s *Server) GetArtifactTypes(_ context.Context, _ *mlmd.GetArtifactTypesRequest) (*mlmd.GetArtifactTypesResponse, error) {
	resp := &mlmd.GetArtifactTypesResponse{}
	err := s.read(func(st *store) error {
		resp.ArtifactTypes = allTypes(st.artifactTypes)
		return nil
	})
	return answer(resp, err, "GetArtifactTypes")
}

// GetExecutionTypes lists all execution types.
func (s *Server) GetExecutionTypes(_ context.Context, _ *mlmd.GetExecutionTypesRequest) (*mlmd.GetExecutionTypesResponse, error) {
	resp := &mlmd.GetExecutionTypesResponse{}
	err := s.read(func(st *store) error {
		resp.ExecutionTypes = allTypes(st.executionTypes)
		return nil
	})
	return answer(resp, err, "GetExecutionTypes")
}

// GetContextTypes lists all context types.
func (s *Server) GetContextTypes(_ context.Context, _ *mlmd.GetContextTypesRequest) (*mlmd.GetContextTypesResponse, error) {
	resp := &mlmd.GetContextTypesResponse{}
	err := s.read(func(st *store) error {
		resp.ContextTypes = allTypes(st.contextTypes)
		return nil
	})
	return answer(resp, err, "GetContextTypes")
}

// GetArtifactTypesByID skips unknown ids.
func (s *Server) GetArtifactTypesByID(_ context.Context, req *mlmd.GetArtifactTypesByIDRequest) (*mlmd.GetArtifactTypesByIDResponse, error) {
	resp := &mlmd.GetArtifactTypesByIDResponse{}
	err := s.read(func(st *store) error {
		resp.ArtifactTypes = typesByID(st.artifactTypes, req.GetTypeIds())
		return nil
	})
	return answer(resp, err, "GetArtifactTypesByID")
}

// GetExecutionTypesByID skips unknown ids.
func (s *Server) GetExecutionTypesByID(_ context.Context, req *mlmd.GetExecutionTypesByIDRequest) (*mlmd.GetExecutionTypesByIDResponse, error) {
	resp := &mlmd.GetExecutionTypesByIDResponse{}
	err := s.read(func(st *store) error {
		resp.ExecutionTypes = typesByID(st.executionTypes, req.GetTypeIds())
		return nil
	})
	return answer(resp, err, "GetExecutionTypesByID")
}

// GetContextTypesByID skips unknown ids.
func (s *Server) GetContextTypesByID(_ context.Context, req *mlmd.GetContextTypesByIDRequest) (*mlmd.GetContextTypesByIDResponse, error) {
	resp := &mlmd.GetContextTypesByIDResponse{}
	err := s.read(func(st *store) error {
		resp.ContextTypes = typesByID(st.contextTypes, req.GetTypeIds())
		return nil
	})
	return answer(resp, err, "GetContextTypesByID")
}

// GetArtifactTypesByExternalIds answers NOT_FOUND when none matches.
func (s *Server) GetArtifactTypesByExternalIds(_ context.Context, req *mlmd.GetArtifactTypesByExternalIdsRequest) (*mlmd.GetArtifactTypesByExternalIdsResponse, error) {
	resp := &mlmd.GetArtifactTypesByExternalIdsResponse{}
	err := s.read(func(st *store) (err error) {
		resp.ArtifactTypes, err = typesByExternalIDs(st.artifactTypes, req.GetExternalIds())
		return err
	})
	return answer(resp, err, "GetArtifactTypesByExternalIds")
}

// GetExecutionTypesByExternalIds answers NOT_FOUND when none matches.
func (s *Server) GetExecutionTypesByExternalIds(_ context.Context, req *mlmd.GetExecutionTypesByExternalIdsRequest) (*mlmd.GetExecutionTypesByExternalIdsResponse, error) {
	resp := &mlmd.GetExecutionTypesByExternalIdsResponse{}
	err := s.read(func(st *store) (err error) {
		resp.ExecutionTypes, err = typesByExternalIDs(st.executionTypes, req.GetExternalIds())
		return err
	})
	return answer(resp, err, "GetExecutionTypesByExternalIds")
}

// GetContextTypesByExternalIds answers NOT_FOUND when none matches.
func (s *Server) GetContextTypesByExternalIds(_ context.Context, req *mlmd.GetContextTypesByExternalIdsRequest) (*mlmd.GetContextTypesByExternalIdsResponse, error) {
	resp := &mlmd.GetContextTypesByExternalIdsResponse{}
	err := s.read(func(st *store) (err error) {
		resp.ContextTypes, err = typesByExternalIDs(st.contextTypes, req.GetExternalIds())
		return err
	})
	return answer(resp, err, "GetContextTypesByExternalIds")
}

// orEmpty turns a missing request message into an empty one, as C++ proto
// accessors do, so that validation reports the missing name.
func orEmpty[T proto.Message](m T) T {
	if m.ProtoReflect().IsValid() {
		return m
	}
	return m.ProtoReflect().Type().New().Interface().(T)
}
