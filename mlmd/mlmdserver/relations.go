package mlmdserver

import (
	"context"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// PutAttributionsAndAssociations links artifacts and executions to
// contexts. Both ends must exist (INVALID_ARGUMENT otherwise, as in MLMD);
// an existing link is left alone.
func (s *Server) PutAttributionsAndAssociations(_ context.Context, req *mlmd.PutAttributionsAndAssociationsRequest) (*mlmd.PutAttributionsAndAssociationsResponse, error) {
	err := s.write(func(st *store) error {
		for i, a := range req.GetAttributions() {
			if err := st.attribute(a); err != nil {
				return wrap(err, "attributions[%d]", i)
			}
		}
		for i, a := range req.GetAssociations() {
			if err := st.associate(a); err != nil {
				return wrap(err, "associations[%d]", i)
			}
		}
		return nil
	})
	return answer(&mlmd.PutAttributionsAndAssociationsResponse{}, err, "PutAttributionsAndAssociations")
}

func (st *store) attribute(a *mlmd.Attribution) error {
	if err := st.checkContextEnd(a, a.GetContextId()); err != nil {
		return err
	}
	if !has(a, "artifact_id") {
		return errorf(codes.InvalidArgument, "no artifact id is specified")
	}
	if _, ok := st.artifacts.get(a.GetArtifactId()); !ok {
		return errorf(codes.InvalidArgument, "artifact id %d not found", a.GetArtifactId())
	}
	if !st.attributions.has(a.GetContextId(), a.GetArtifactId()) {
		st.attributions.add(a.GetContextId(), a.GetArtifactId())
	}
	return nil
}

func (st *store) associate(a *mlmd.Association) error {
	if err := st.checkContextEnd(a, a.GetContextId()); err != nil {
		return err
	}
	if !has(a, "execution_id") {
		return errorf(codes.InvalidArgument, "no execution id is specified")
	}
	if _, ok := st.executions.get(a.GetExecutionId()); !ok {
		return errorf(codes.InvalidArgument, "execution id %d not found", a.GetExecutionId())
	}
	if !st.associations.has(a.GetContextId(), a.GetExecutionId()) {
		st.associations.add(a.GetContextId(), a.GetExecutionId())
	}
	return nil
}

func (st *store) checkContextEnd(edge proto.Message, ctxID int64) error {
	if !has(edge, "context_id") {
		return errorf(codes.InvalidArgument, "no context id is specified")
	}
	if _, ok := st.contexts.get(ctxID); !ok {
		return errorf(codes.InvalidArgument, "context id %d not found", ctxID)
	}
	return nil
}

// PutParentContexts links child contexts to parents. Unknown contexts and
// cycles are INVALID_ARGUMENT; an existing link is ALREADY_EXISTS (KFP
// ignores that code when two drivers race).
func (s *Server) PutParentContexts(_ context.Context, req *mlmd.PutParentContextsRequest) (*mlmd.PutParentContextsResponse, error) {
	err := s.write(func(st *store) error {
		for i, pc := range req.GetParentContexts() {
			if err := st.addParentContext(pc); err != nil {
				return wrap(err, "parent_contexts[%d]", i)
			}
		}
		return nil
	})
	return answer(&mlmd.PutParentContextsResponse{}, err, "PutParentContexts")
}

func (st *store) addParentContext(pc *mlmd.ParentContext) error {
	child, parent := pc.GetChildId(), pc.GetParentId()
	if !has(pc, "child_id") || !has(pc, "parent_id") {
		return errorf(codes.InvalidArgument, "missing parent or child id in the parent context")
	}
	_, childOK := st.contexts.get(child)
	_, parentOK := st.contexts.get(parent)
	if !childOK || !parentOK {
		return errorf(codes.InvalidArgument, "parent %d or child %d of the parent context cannot be found", parent, child)
	}
	if st.isAncestorOrSelf(child, parent) {
		return errorf(codes.InvalidArgument, "making %d a parent of %d would create a cycle", parent, child)
	}
	if st.parents.has(child, parent) {
		return errorf(codes.AlreadyExists, "context %d is already a parent of context %d", parent, child)
	}
	st.parents.add(child, parent)
	return nil
}

// isAncestorOrSelf reports whether candidate is id or one of its ancestors.
func (st *store) isAncestorOrSelf(candidate, id int64) bool {
	seen := map[int64]bool{}
	todo := []int64{id}
	for len(todo) > 0 {
		cur := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if cur == candidate {
			return true
		}
		if !seen[cur] {
			seen[cur] = true
			todo = append(todo, st.parents.from(cur)...)
		}
	}
	return false
}

// GetParentContextsByContext returns a context's parents; none is not an
// error.
func (s *Server) GetParentContextsByContext(_ context.Context, req *mlmd.GetParentContextsByContextRequest) (*mlmd.GetParentContextsByContextResponse, error) {
	resp := &mlmd.GetParentContextsByContextResponse{}
	err := s.read(func(st *store) error {
		resp.Contexts = readByIDs(st, st.contexts, st.parents.from(req.GetContextId()))
		return nil
	})
	return answer(resp, err, "GetParentContextsByContext")
}

// GetChildrenContextsByContext returns a context's children; none is not an
// error.
func (s *Server) GetChildrenContextsByContext(_ context.Context, req *mlmd.GetChildrenContextsByContextRequest) (*mlmd.GetChildrenContextsByContextResponse, error) {
	resp := &mlmd.GetChildrenContextsByContextResponse{}
	err := s.read(func(st *store) error {
		resp.Contexts = readByIDs(st, st.contexts, st.parents.to(req.GetContextId()))
		return nil
	})
	return answer(resp, err, "GetChildrenContextsByContext")
}

// GetParentContextsByContexts is the batch form; contexts without parents
// are absent from the map, and an empty request is INVALID_ARGUMENT.
func (s *Server) GetParentContextsByContexts(_ context.Context, req *mlmd.GetParentContextsByContextsRequest) (*mlmd.GetParentContextsByContextsResponse, error) {
	resp := &mlmd.GetParentContextsByContextsResponse{Contexts: map[int64]*mlmd.GetParentContextsByContextsResponse_ParentContextsPerChild{}}
	err := s.read(func(st *store) error {
		return st.linkedContexts(req.GetContextIds(), st.parents.from, func(id int64, cs []*mlmd.Context) {
			resp.Contexts[id] = &mlmd.GetParentContextsByContextsResponse_ParentContextsPerChild{ParentContexts: cs}
		})
	})
	return answer(resp, err, "GetParentContextsByContexts")
}

// GetChildrenContextsByContexts is the batch form; contexts without
// children are absent from the map, and an empty request is
// INVALID_ARGUMENT.
func (s *Server) GetChildrenContextsByContexts(_ context.Context, req *mlmd.GetChildrenContextsByContextsRequest) (*mlmd.GetChildrenContextsByContextsResponse, error) {
	resp := &mlmd.GetChildrenContextsByContextsResponse{Contexts: map[int64]*mlmd.GetChildrenContextsByContextsResponse_ChildrenContextsPerParent{}}
	err := s.read(func(st *store) error {
		return st.linkedContexts(req.GetContextIds(), st.parents.to, func(id int64, cs []*mlmd.Context) {
			resp.Contexts[id] = &mlmd.GetChildrenContextsByContextsResponse_ChildrenContextsPerParent{ChildrenContexts: cs}
		})
	})
	return answer(resp, err, "GetChildrenContextsByContexts")
}

func (st *store) linkedContexts(ids []int64, linked func(int64) []int64, put func(int64, []*mlmd.Context)) error {
	if len(ids) == 0 {
		return errorf(codes.InvalidArgument, "given context_ids is empty")
	}
	for _, id := range uniqueSorted(ids) {
		if cs := readByIDs(st, st.contexts, linked(id)); len(cs) > 0 {
			put(id, cs)
		}
	}
	return nil
}
