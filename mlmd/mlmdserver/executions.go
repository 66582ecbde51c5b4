package mlmdserver

import (
	"context"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
)

// PutExecutions creates executions without id and updates those with one,
// all or nothing.
func (s *Server) PutExecutions(_ context.Context, req *mlmd.PutExecutionsRequest) (*mlmd.PutExecutionsResponse, error) {
	if err := checkNoMask(req.GetUpdateMask()); err != nil {
		return nil, err
	}
	resp := &mlmd.PutExecutionsResponse{}
	err := s.write(func(st *store) (err error) {
		resp.ExecutionIds, err = putNodes(st, st.executions, req.GetExecutions())
		return err
	})
	return answer(resp, err, "PutExecutions")
}

// PutExecution records an execution with its artifacts, events and
// contexts in one transaction, in MLMD's order: artifacts, execution,
// events, then contexts with their associations and attributions. Any
// failure leaves the store untouched.
func (s *Server) PutExecution(_ context.Context, req *mlmd.PutExecutionRequest) (*mlmd.PutExecutionResponse, error) {
	resp := &mlmd.PutExecutionResponse{}
	err := s.write(func(st *store) error { return st.putExecution(req, resp) })
	return answer(resp, err, "PutExecution")
}

func (st *store) putExecution(req *mlmd.PutExecutionRequest, resp *mlmd.PutExecutionResponse) error {
	if req.GetExecution() == nil {
		return errorf(codes.InvalidArgument, "no execution is given")
	}
	pairs, opts := req.GetArtifactEventPairs(), req.GetOptions()
	artifactIDs := make([]int64, len(pairs))
	for i, p := range pairs {
		if p.GetArtifact() == nil {
			continue
		}
		id, err := st.upsertPairArtifact(p.GetArtifact(), opts.GetReuseArtifactIfAlreadyExistByExternalId())
		if err != nil {
			return wrap(err, "artifact_event_pairs[%d].artifact", i)
		}
		artifactIDs[i] = id
	}
	execID, err := upsertNode(st, st.executions, req.GetExecution())
	if err != nil {
		return wrap(err, "execution")
	}
	resp.ExecutionId = &execID
	for i, p := range pairs {
		id, err := st.insertPairEvent(p, artifactIDs[i], execID)
		if err != nil {
			return wrap(err, "artifact_event_pairs[%d].event", i)
		}
		resp.ArtifactIds = append(resp.ArtifactIds, id)
	}
	for i, c := range req.GetContexts() {
		ctxID, err := st.upsertExecutionContext(c, opts.GetReuseContextIfAlreadyExist())
		if err != nil {
			return wrap(err, "contexts[%d]", i)
		}
		resp.ContextIds = append(resp.ContextIds, ctxID)
		st.linkToContext(ctxID, execID, resp.ArtifactIds)
	}
	return nil
}

// upsertPairArtifact upserts one artifact of PutExecution. With
// reuse_artifact_if_already_exist_by_external_id a new artifact whose
// external_id is already stored updates that artifact instead.
func (st *store) upsertPairArtifact(a *mlmd.Artifact, reuseByExternalID bool) (int64, error) {
	if reuseByExternalID && !has(a, fieldID) && a.GetExternalId() != "" {
		if id, ok := st.artifacts.byExtID[a.GetExternalId()]; ok {
			a = cloneOf(a)
			a.Id = &id
		}
	}
	return upsertNode(st, st.artifacts, a)
}

// insertPairEvent inserts the event of one pair and returns the artifact id
// PutExecution reports for it: the pair's artifact, else the event's
// artifact_id, else -1 for an empty pair.
func (st *store) insertPairEvent(p *mlmd.PutExecutionRequest_ArtifactAndEvent, artifactID, execID int64) (int64, error) {
	if p.GetEvent() == nil {
		if p.GetArtifact() != nil {
			return artifactID, nil
		}
		return -1, nil
	}
	ev := cloneOf(p.GetEvent())
	if has(ev, "execution_id") && ev.GetExecutionId() != execID {
		return 0, errorf(codes.InvalidArgument, "event.execution_id %d does not match the execution %d", ev.GetExecutionId(), execID)
	}
	ev.ExecutionId = &execID
	switch {
	case p.GetArtifact() != nil:
		if has(ev, "artifact_id") && ev.GetArtifactId() != artifactID {
			return 0, errorf(codes.InvalidArgument, "event.artifact_id %d is not aligned with the artifact %d", ev.GetArtifactId(), artifactID)
		}
		ev.ArtifactId = &artifactID
	case !has(ev, "artifact_id"):
		return 0, errorf(codes.InvalidArgument, "if no artifact is present, the event must have an artifact_id")
	}
	return ev.GetArtifactId(), st.insertEvent(ev)
}

// upsertExecutionContext resolves one context of PutExecution. MLMD
// requires type_id and name even when the id is given; with
// reuse_context_if_already_exist an existing (type, name) is reused as is.
func (st *store) upsertExecutionContext(c *mlmd.Context, reuse bool) (int64, error) {
	if !has(c, fieldTypeID) {
		return 0, errorf(codes.InvalidArgument, "context is missing a type_id")
	}
	if !has(c, fieldName) {
		return 0, errorf(codes.InvalidArgument, "context is missing a name")
	}
	if reuse && !has(c, fieldID) {
		if row, ok := st.contexts.byTypeAndName(c.GetTypeId(), c.GetName()); ok {
			return row.GetId(), nil
		}
	}
	return upsertNode(st, st.contexts, c)
}

// linkToContext associates the execution and attributes every artifact of
// the request to the context, keeping existing links.
func (st *store) linkToContext(ctxID, execID int64, artifactIDs []int64) {
	if !st.associations.has(ctxID, execID) {
		st.associations.add(ctxID, execID)
	}
	for _, id := range uniqueSorted(artifactIDs) {
		if id > 0 && !st.attributions.has(ctxID, id) {
			st.attributions.add(ctxID, id)
		}
	}
}

// GetExecutionsByID returns the executions that exist, ascending by id.
func (s *Server) GetExecutionsByID(_ context.Context, req *mlmd.GetExecutionsByIDRequest) (*mlmd.GetExecutionsByIDResponse, error) {
	resp := &mlmd.GetExecutionsByIDResponse{}
	err := s.read(func(st *store) error {
		resp.Executions = readByIDs(st, st.executions, req.GetExecutionIds())
		return nil
	})
	return answer(resp, err, "GetExecutionsByID")
}

// GetExecutionByTypeAndName answers an empty response, not an error, when
// the type or the execution does not exist.
func (s *Server) GetExecutionByTypeAndName(_ context.Context, req *mlmd.GetExecutionByTypeAndNameRequest) (*mlmd.GetExecutionByTypeAndNameResponse, error) {
	resp := &mlmd.GetExecutionByTypeAndNameResponse{}
	err := s.read(func(st *store) error {
		if e, ok := nodeByTypeAndName(st, st.executions, req.GetTypeName(), req.GetTypeVersion(), req.GetExecutionName()); ok {
			resp.Execution = e
		}
		return nil
	})
	return answer(resp, err, "GetExecutionByTypeAndName")
}

// GetExecutionsByType lists the executions of one type.
func (s *Server) GetExecutionsByType(_ context.Context, req *mlmd.GetExecutionsByTypeRequest) (*mlmd.GetExecutionsByTypeResponse, error) {
	resp := &mlmd.GetExecutionsByTypeResponse{}
	err := s.read(func(st *store) (err error) {
		resp.Executions, resp.NextPageToken, err = nodesByType(st, st.executions, req.GetTypeName(), req.GetTypeVersion(), req.GetOptions())
		return err
	})
	return answer(resp, err, "GetExecutionsByType")
}

// GetExecutions lists all executions, one page at a time when options are
// set.
func (s *Server) GetExecutions(_ context.Context, req *mlmd.GetExecutionsRequest) (*mlmd.GetExecutionsResponse, error) {
	resp := &mlmd.GetExecutionsResponse{}
	err := s.read(func(st *store) error {
		rows, token, err := selectNodes(st, st.executions, st.executions.allIDs(), req.GetOptions())
		resp.Executions, resp.NextPageToken = rows, tokenOrNil(token)
		return err
	})
	return answer(resp, err, "GetExecutions")
}

// GetExecutionsByExternalIds answers NOT_FOUND when none matches.
func (s *Server) GetExecutionsByExternalIds(_ context.Context, req *mlmd.GetExecutionsByExternalIdsRequest) (*mlmd.GetExecutionsByExternalIdsResponse, error) {
	resp := &mlmd.GetExecutionsByExternalIdsResponse{}
	err := s.read(func(st *store) (err error) {
		resp.Executions, err = readByExternalIDs(st, st.executions, req.GetExternalIds())
		return err
	})
	return answer(resp, err, "GetExecutionsByExternalIds")
}

// GetExecutionsByContext lists the executions associated with a context;
// the KFP driver pages through it with a parent_dag_id filter.
func (s *Server) GetExecutionsByContext(_ context.Context, req *mlmd.GetExecutionsByContextRequest) (*mlmd.GetExecutionsByContextResponse, error) {
	resp := &mlmd.GetExecutionsByContextResponse{}
	err := s.read(func(st *store) error {
		ids := st.associations.from(req.GetContextId())
		if len(ids) == 0 {
			return nil
		}
		rows, token, err := selectNodes(st, st.executions, ids, req.GetOptions())
		resp.Executions, resp.NextPageToken = rows, tokenOrNil(token)
		return err
	})
	return answer(resp, err, "GetExecutionsByContext")
}
