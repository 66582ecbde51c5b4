package mlmdserver

import (
	"maps"
	"slices"
	"time"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
)

// kind names one of the three node tables. It selects the type table, the
// attributes a filter may use and the wording of errors.
type kind int

const (
	artifactKind kind = iota
	executionKind
	contextKind
)

func (k kind) String() string {
	switch k {
	case artifactKind:
		return "artifact"
	case executionKind:
		return "execution"
	default:
		return "context"
	}
}

// journal collects undo steps while one write RPC runs. MLMD runs every RPC
// in one database transaction; replaying the journal backwards when the RPC
// fails gives the same all-or-nothing outcome for batches and for
// PutExecution without a second, hand-written validation pass that could
// drift from the real checks.
type journal struct {
	active bool
	steps  []func()
}

func (j *journal) record(undo func()) {
	if j.active {
		j.steps = append(j.steps, undo)
	}
}

func (j *journal) begin() {
	j.active = true
	j.steps = j.steps[:0]
}

func (j *journal) commit() {
	j.active = false
	clear(j.steps)
	j.steps = j.steps[:0]
}

func (j *journal) rollback() {
	for i := len(j.steps) - 1; i >= 0; i-- {
		j.steps[i]()
	}
	j.commit()
}

// clock hands out wall-clock milliseconds that strictly increase, so that
// ordering by create or update time is deterministic even when several
// writes land in the same millisecond (a real database may tie).
type clock struct {
	now  func() time.Time
	last int64
}

func (c *clock) tick() int64 {
	t := c.now().UnixMilli()
	if t <= c.last {
		t = c.last + 1
	}
	c.last = t
	return t
}

// store is the whole in-memory database. It is not safe for concurrent use;
// Server serialises access with one mutex, as the real MLMD gRPC server
// does.
type store struct {
	j     *journal
	clock clock

	// MLMD keeps all three kinds of types in one table, so type ids come
	// from one counter and never collide across kinds.
	lastTypeID     int64
	artifactTypes  *typeTable[*mlmd.ArtifactType]
	executionTypes *typeTable[*mlmd.ExecutionType]
	contextTypes   *typeTable[*mlmd.ContextType]

	artifacts  *nodeTable[*mlmd.Artifact]
	executions *nodeTable[*mlmd.Execution]
	contexts   *nodeTable[*mlmd.Context]

	events       *eventLog
	attributions *edgeSet // context id -> artifact id
	associations *edgeSet // context id -> execution id
	parents      *edgeSet // child context id -> parent context id
}

func newStore() *store {
	j := &journal{}
	st := &store{j: j, clock: clock{now: time.Now}}
	st.artifactTypes = newTypeTable[*mlmd.ArtifactType](artifactKind, j, st.newTypeID)
	st.executionTypes = newTypeTable[*mlmd.ExecutionType](executionKind, j, st.newTypeID)
	st.contextTypes = newTypeTable[*mlmd.ContextType](contextKind, j, st.newTypeID)
	st.artifacts = newNodeTable[*mlmd.Artifact](artifactKind, j)
	st.executions = newNodeTable[*mlmd.Execution](executionKind, j)
	st.contexts = newNodeTable[*mlmd.Context](contextKind, j)
	st.events = newEventLog(j)
	st.attributions = newEdgeSet(j)
	st.associations = newEdgeSet(j)
	st.parents = newEdgeSet(j)
	return st
}

// newTypeID is not journaled: like a database sequence, an id handed out by
// a failed request is never reused.
func (st *store) newTypeID() int64 {
	st.lastTypeID++
	return st.lastTypeID
}

// typeName returns the name of the type with id typeID of kind k, or "".
func (st *store) typeName(k kind, typeID int64) string {
	switch k {
	case artifactKind:
		return st.artifactTypes.name(typeID)
	case executionKind:
		return st.executionTypes.name(typeID)
	default:
		return st.contextTypes.name(typeID)
	}
}

// typeID resolves a type of kind k by name and version.
func (st *store) typeID(k kind, name, version string) (int64, bool) {
	switch k {
	case artifactKind:
		row, ok := st.artifactTypes.lookup(name, version)
		return row.GetId(), ok
	case executionKind:
		row, ok := st.executionTypes.lookup(name, version)
		return row.GetId(), ok
	default:
		row, ok := st.contextTypes.lookup(name, version)
		return row.GetId(), ok
	}
}

// typeProperties returns the declared properties of a type of kind k.
func (st *store) typeProperties(k kind, typeID int64) (map[string]mlmd.PropertyType, bool) {
	switch k {
	case artifactKind:
		return st.artifactTypes.properties(typeID)
	case executionKind:
		return st.executionTypes.properties(typeID)
	default:
		return st.contextTypes.properties(typeID)
	}
}

// edgeSet is a set of directed id pairs with lookups from both ends. It
// stores attributions, associations and parent-context links.
type edgeSet struct {
	j   *journal
	out map[int64]map[int64]struct{}
	in  map[int64]map[int64]struct{}
}

func newEdgeSet(j *journal) *edgeSet {
	return &edgeSet{j: j, out: map[int64]map[int64]struct{}{}, in: map[int64]map[int64]struct{}{}}
}

func (e *edgeSet) has(a, b int64) bool {
	_, ok := e.out[a][b]
	return ok
}

// add inserts a->b; the caller checks has first.
func (e *edgeSet) add(a, b int64) {
	link(e.out, a, b)
	link(e.in, b, a)
	e.j.record(func() {
		unlink(e.out, a, b)
		unlink(e.in, b, a)
	})
}

// from returns every b with a->b, ascending.
func (e *edgeSet) from(a int64) []int64 { return slices.Sorted(maps.Keys(e.out[a])) }

// to returns every a with a->b, ascending.
func (e *edgeSet) to(b int64) []int64 { return slices.Sorted(maps.Keys(e.in[b])) }

func link(m map[int64]map[int64]struct{}, a, b int64) {
	if m[a] == nil {
		m[a] = map[int64]struct{}{}
	}
	m[a][b] = struct{}{}
}

func unlink(m map[int64]map[int64]struct{}, a, b int64) {
	delete(m[a], b)
	if len(m[a]) == 0 {
		delete(m, a)
	}
}

// uniqueSorted returns the distinct ids in ascending order, the order in
// which MLMD's "WHERE id IN (...)" queries answer.
func uniqueSorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// journaledPut inserts or replaces rows[id], keeping the indexes in step,
// and journals the inverse so a failed RPC leaves the table as it was.
func journaledPut[T any](j *journal, rows map[int64]T, id int64, row T, index, unindex func(T)) {
	old, existed := rows[id]
	if existed {
		unindex(old)
	}
	index(row)
	rows[id] = row
	j.record(func() {
		unindex(row)
		delete(rows, id)
		if existed {
			index(old)
			rows[id] = old
		}
	})
}

// idsForExternalIDs maps external ids to row ids with MLMD's errors: an
// empty external id is INVALID_ARGUMENT, no match at all is NOT_FOUND.
func idsForExternalIDs(byExtID map[string]int64, extIDs []string, what string) ([]int64, error) {
	var ids []int64
	for _, ext := range extIDs {
		if ext == "" {
			return nil, errorf(codes.InvalidArgument, "at least one empty external_id in the request")
		}
		if id, ok := byExtID[ext]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errorf(codes.NotFound, "no %s found for the given external_ids", what)
	}
	return ids, nil
}
