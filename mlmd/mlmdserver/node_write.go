package mlmdserver

import (
	"maps"
	"slices"
	"unicode/utf8"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file holds the write path shared by artifacts, executions and
// contexts: MLMD's checks, then insert or whole-node replace.

// upsertNode creates req when it has no id and updates the stored row
// otherwise, as MLMD's Put* RPCs do.
func upsertNode[T node](st *store, t *nodeTable[T], req T) (int64, error) {
	if has(req, fieldID) {
		return req.GetId(), updateNode(st, t, req)
	}
	return createNode(st, t, req)
}

func createNode[T node](st *store, t *nodeTable[T], req T) (int64, error) {
	if !has(req, fieldTypeID) {
		return 0, errorf(codes.InvalidArgument, "new %s has no type_id", t.kind)
	}
	if err := st.checkProperties(t.kind, req.GetTypeId(), req); err != nil {
		return 0, err
	}
	if t.kind == contextKind && req.GetName() == "" {
		return 0, errorf(codes.InvalidArgument, "context name should not be empty")
	}
	if err := checkColumnWidths(t.kind, req); err != nil {
		return 0, err
	}
	if err := t.checkUnique(req, 0); err != nil {
		return 0, err
	}
	row := cloneOf(req)
	clearOutputOnly(row)
	id, now := t.nextID(), st.clock.tick()
	setInt64(row, fieldID, id)
	setInt64(row, fieldCreateTime, now)
	setInt64(row, fieldUpdateTime, now)
	t.put(row)
	return id, nil
}

// updateNode replaces the stored row as a whole, as MLMD does without an
// update mask: properties absent from req are deleted.
func updateNode[T node](st *store, t *nodeTable[T], req T) error {
	stored, ok := t.get(req.GetId())
	if !ok {
		// MLMD answers INVALID_ARGUMENT here, not NOT_FOUND.
		return errorf(codes.InvalidArgument, "cannot find the given id %d among %ss", req.GetId(), t.kind)
	}
	if has(req, fieldTypeID) && req.GetTypeId() != stored.GetTypeId() {
		return errorf(codes.InvalidArgument, "%s %d: given type_id %d is different from the stored one %d",
			t.kind, req.GetId(), req.GetTypeId(), stored.GetTypeId())
	}
	row := cloneOf(req)
	clearOutputOnly(row)
	setInt64(row, fieldTypeID, stored.GetTypeId())
	if err := st.checkProperties(t.kind, stored.GetTypeId(), row); err != nil {
		return err
	}
	if t.kind == contextKind {
		if row.GetName() == "" {
			return errorf(codes.InvalidArgument, "context %d: name should not be empty", req.GetId())
		}
	} else {
		// Artifact and execution names cannot change once written; MLMD
		// silently keeps the stored one.
		copyField(row, stored, fieldName)
	}
	setInt64(row, fieldCreateTime, stored.GetCreateTimeSinceEpoch())
	setInt64(row, fieldUpdateTime, stored.GetLastUpdateTimeSinceEpoch())
	if proto.Equal(row, stored) {
		return nil // nothing changed: MLMD keeps last_update_time_since_epoch
	}
	if err := checkColumnWidths(t.kind, row); err != nil {
		return err
	}
	if err := t.checkUnique(row, req.GetId()); err != nil {
		return err
	}
	setInt64(row, fieldUpdateTime, st.clock.tick())
	t.put(row)
	return nil
}

// maxNameLength is the width of MLMD's VARCHAR(255) name and external_id
// columns.
const maxNameLength = 255

// checkColumnWidths rejects names MLMD's MySQL schema cannot hold. MLMD on
// MySQL in strict mode (the default) fails such writes with an INTERNAL
// "Data too long" error, so a client that works here also works there.
func checkColumnWidths(k kind, n node) error {
	for _, f := range []protoreflect.Name{fieldName, fieldExternalID} {
		if v := n.ProtoReflect().Get(fieldOf(n, f)).String(); utf8.RuneCountInString(v) > maxNameLength {
			return errorf(codes.Internal, "%s: Data too long for column '%s': %d characters, at most %d",
				k, f, utf8.RuneCountInString(v), maxNameLength)
		}
	}
	return nil
}

// clearOutputOnly drops fields a client may echo back from a read but never
// writes: the type name is derived from type_id on every read.
func clearOutputOnly(m proto.Message) {
	clearField(m, fieldType)
	clearField(m, fieldSystemMetadata)
}

// checkProperties is MLMD's type check for a node write: the type exists,
// declares every property, and each value has the declared kind.
func (st *store) checkProperties(k kind, typeID int64, n node) error {
	declared, ok := st.typeProperties(k, typeID)
	if !ok {
		return errorf(codes.NotFound, "cannot find %s type with id %d", k, typeID)
	}
	props := n.GetProperties()
	for _, name := range slices.Sorted(maps.Keys(props)) {
		want, ok := declared[name]
		if !ok {
			return errorf(codes.InvalidArgument, "%s: found unknown property %q", k, name)
		}
		if !valueHasType(props[name], want) {
			return errorf(codes.InvalidArgument, "%s: property %q does not hold a %v value", k, name, want)
		}
	}
	custom := n.GetCustomProperties()
	for _, name := range slices.Sorted(maps.Keys(custom)) {
		if custom[name].GetValue() == nil {
			return errorf(codes.InvalidArgument, "%s: custom property %q has no value", k, name)
		}
	}
	return nil
}

func valueHasType(v *mlmd.Value, t mlmd.PropertyType) bool {
	switch v.GetValue().(type) {
	case *mlmd.Value_IntValue:
		return t == mlmd.PropertyType_INT
	case *mlmd.Value_DoubleValue:
		return t == mlmd.PropertyType_DOUBLE
	case *mlmd.Value_StringValue:
		return t == mlmd.PropertyType_STRING
	case *mlmd.Value_StructValue:
		return t == mlmd.PropertyType_STRUCT
	case *mlmd.Value_ProtoValue:
		return t == mlmd.PropertyType_PROTO
	case *mlmd.Value_BoolValue:
		return t == mlmd.PropertyType_BOOLEAN
	}
	return false
}

// putNodes upserts a batch of nodes; the caller's transaction makes the
// batch all-or-nothing.
func putNodes[T node](st *store, t *nodeTable[T], reqs []T) ([]int64, error) {
	ids := make([]int64, 0, len(reqs))
	for i, req := range reqs {
		id, err := upsertNode(st, t, req)
		if err != nil {
			return nil, wrap(err, "%ss[%d]", t.kind, i)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// checkNoMask rejects update masks, which this server does not implement,
// rather than ignoring them and updating whole nodes.
func checkNoMask(mask interface{ GetPaths() []string }) error {
	if len(mask.GetPaths()) > 0 {
		return errorf(codes.Unimplemented, "update_mask is not supported by this test server")
	}
	return nil
}
