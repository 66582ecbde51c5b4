package mlpipelinetest

import (
	"sort"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// KFP's page size defaults and cap for list calls.
const (
	defaultPageSize = 20
	maxPageSize     = 200
)

// query is a validated ListTasksRequest.
type query struct {
	equals   map[string][]string // task field -> required values (ANDed)
	desc     bool
	pageSize int
}

func parseQuery(req *apipb.ListTasksRequest) (*query, error) {
	if req.GetPageToken() != "" {
		return nil, invalid("page_token is not supported by the test server")
	}
	if req.GetResourceReferenceKey() != nil {
		return nil, invalid("resource_reference_key is not supported by the test server")
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	desc, err := sortOrder(req.GetSortBy())
	if err != nil {
		return nil, err
	}
	equals, err := parseFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &query{equals: equals, desc: desc, pageSize: size}, nil
}

func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalid("page_size %d is negative", n)
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

func sortOrder(sortBy string) (desc bool, err error) {
	switch sortBy {
	case "", "created_at", "created_at asc":
		return false, nil
	case "created_at desc":
		return true, nil
	}
	return false, invalid("sort_by %q is not supported by the test server", sortBy)
}

// parseFilter maps the accepted predicates to task fields.
func parseFilter(s string) (map[string][]string, error) {
	f, err := mlpipeline.DecodeFilter(s)
	if err != nil {
		return nil, invalid("%v", err)
	}
	equals := map[string][]string{}
	for _, p := range f.GetPredicates() {
		field, err := predicateField(p)
		if err != nil {
			return nil, err
		}
		equals[field] = append(equals[field], p.GetStringValue())
	}
	return equals, nil
}

func predicateField(p *apipb.Predicate) (string, error) {
	if p.GetOp() != apipb.Predicate_EQUALS {
		return "", invalid("predicate on %q: op %s is not supported", p.GetKey(), p.GetOp())
	}
	if _, ok := p.GetValue().(*apipb.Predicate_StringValue); !ok {
		return "", invalid("predicate on %q: only stringValue is supported", p.GetKey())
	}
	switch p.GetKey() {
	case "fingerprint", "namespace":
		return p.GetKey(), nil
	case "pipelineName", "pipeline_name":
		return "pipelineName", nil
	}
	return "", invalid("predicate key %q is not supported", p.GetKey())
}

func (q *query) match(records []record) []record {
	var out []record
	for _, r := range records {
		if q.matches(r.task) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return q.before(out[i], out[j]) })
	return out
}

func (q *query) matches(t *apipb.Task) bool {
	for field, values := range q.equals {
		for _, v := range values {
			if taskField(t, field) != v {
				return false
			}
		}
	}
	return true
}

func taskField(t *apipb.Task, field string) string {
	switch field {
	case "fingerprint":
		return t.GetFingerprint()
	case "namespace":
		return t.GetNamespace()
	case "pipelineName":
		return t.GetPipelineName()
	}
	return ""
}

// before orders by created_at seconds, then insertion, both in q's direction.
func (q *query) before(a, b record) bool {
	ka, kb := a.task.GetCreatedAt().GetSeconds(), b.task.GetCreatedAt().GetSeconds()
	if ka == kb {
		ka, kb = int64(a.seq), int64(b.seq)
	}
	if q.desc {
		return ka > kb
	}
	return ka < kb
}

func (q *query) page(matches []record) *apipb.ListTasksResponse {
	resp := &apipb.ListTasksResponse{TotalSize: int32(len(matches))}
	for i, r := range matches {
		if i == q.pageSize {
			break
		}
		resp.Tasks = append(resp.Tasks, cloneTask(r.task))
	}
	return resp
}
