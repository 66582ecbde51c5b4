package mlmdserver

import (
	"fmt"
	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
)

// This file holds the read path shared by artifacts, executions and
// contexts: copies with the type name filled in, in MLMD's order.

// readNode returns a copy of a stored row the way MLMD answers it, with the
// output-only type name filled in.
func readNode[T node](st *store, t *nodeTable[T], row T) T {
	out := cloneOf(row)
	setString(out, fieldType, st.typeName(t.kind, row.GetTypeId()))
	return out
}

// readByIDs answers Get*ByID: found rows only, distinct, ascending id.
func readByIDs[T node](st *store, t *nodeTable[T], ids []int64) []T {
	var out []T
	for _, id := range uniqueSorted(ids) {
		if row, ok := t.get(id); ok {
			out = append(out, readNode(st, t, row))
		}
	}
	return out
}

// readByExternalIDs answers Get*ByExternalIds. MLMD rejects empty ids and
// answers NOT_FOUND when none matches.
func readByExternalIDs[T node](st *store, t *nodeTable[T], extIDs []string) ([]T, error) {
	if len(extIDs) == 0 {
		return nil, nil
	}
	ids, err := idsForExternalIDs(t.byExtID, extIDs, fmt.Sprintf("%ss", t.kind))
	if err != nil {
		return nil, err
	}
	return readByIDs(st, t, ids), nil
}

// selectNodes answers the list RPCs: every candidate row ascending by id
// without options, or one page of them with options.
func selectNodes[T node](st *store, t *nodeTable[T], ids []int64, opts *mlmd.ListOperationOptions) ([]T, string, error) {
	if opts == nil {
		return readByIDs(st, t, ids), "", nil
	}
	return listNodes(st, t, ids, opts)
}

// nodeByTypeAndName answers Get*ByTypeAndName: ok is false, not an error,
// when the type or the node is missing.
func nodeByTypeAndName[T node](st *store, t *nodeTable[T], typeName, version, name string) (T, bool) {
	var zero T
	typeID, ok := st.typeID(t.kind, typeName, version)
	if !ok {
		return zero, false
	}
	row, ok := t.byTypeAndName(typeID, name)
	if !ok {
		return zero, false
	}
	return readNode(st, t, row), true
}

// nodesByType answers Get*ByType. A missing type or an empty result is not
// an error. As in MLMD, a page token is returned (possibly empty) whenever
// options were given and there was something to list.
func nodesByType[T node](st *store, t *nodeTable[T], typeName, version string, opts *mlmd.ListOperationOptions) ([]T, *string, error) {
	typeID, ok := st.typeID(t.kind, typeName, version)
	if !ok {
		return nil, nil, nil
	}
	ids := t.idsOfType(typeID)
	if len(ids) == 0 {
		return nil, nil, nil
	}
	rows, token, err := selectNodes(st, t, ids, opts)
	if err != nil || opts == nil {
		return rows, nil, err
	}
	return rows, &token, nil
}

// tokenOrNil is how the other list RPCs answer the page token: only when
// there is a next page.
func tokenOrNil(token string) *string {
	if token == "" {
		return nil
	}
	return &token
}
