package mlmdserver

import (
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// typeMsg is what ArtifactType, ExecutionType and ContextType share.
type typeMsg interface {
	proto.Message
	GetId() int64
	GetName() string
	GetVersion() string
	GetExternalId() string
	GetProperties() map[string]mlmd.PropertyType
}

// typeKey identifies a type: MLMD keys types by (name, version), where an
// empty version means "no version".
type typeKey struct {
	name, version string
}

// typeTable holds the types of one kind.
type typeTable[T typeMsg] struct {
	kind    kind
	j       *journal
	newID   func() int64
	rows    map[int64]T
	byKey   map[typeKey]int64
	byExtID map[string]int64
}

func newTypeTable[T typeMsg](k kind, j *journal, newID func() int64) *typeTable[T] {
	return &typeTable[T]{kind: k, j: j, newID: newID, rows: map[int64]T{}, byKey: map[typeKey]int64{}, byExtID: map[string]int64{}}
}

func (t *typeTable[T]) lookup(name, version string) (T, bool) {
	id, ok := t.byKey[typeKey{name, version}]
	if !ok {
		var zero T
		return zero, false
	}
	return t.rows[id], true
}

func (t *typeTable[T]) name(id int64) string {
	if row, ok := t.rows[id]; ok {
		return row.GetName()
	}
	return ""
}

func (t *typeTable[T]) properties(id int64) (map[string]mlmd.PropertyType, bool) {
	row, ok := t.rows[id]
	if !ok {
		return nil, false
	}
	return row.GetProperties(), true
}

// put inserts or replaces a type and journals the inverse.
func (t *typeTable[T]) put(row T) {
	journaledPut(t.j, t.rows, row.GetId(), row, t.index, t.unindex)
}

func (t *typeTable[T]) index(row T) {
	t.byKey[typeKey{row.GetName(), row.GetVersion()}] = row.GetId()
	if has(row, fieldExternalID) {
		t.byExtID[row.GetExternalId()] = row.GetId()
	}
}

func (t *typeTable[T]) unindex(row T) {
	delete(t.byKey, typeKey{row.GetName(), row.GetVersion()})
	if has(row, fieldExternalID) {
		delete(t.byExtID, row.GetExternalId())
	}
}

func (t *typeTable[T]) checkExternalID(row T, self int64) error {
	if !has(row, fieldExternalID) {
		return nil
	}
	if owner, ok := t.byExtID[row.GetExternalId()]; ok && owner != self {
		return errorf(codes.AlreadyExists, "%s type with external_id %q already exists (id %d)", t.kind, row.GetExternalId(), owner)
	}
	return nil
}

// upsertType is MLMD's type upsert: create when (name, version) is new,
// otherwise check the request is compatible with the stored type and add
// new properties if can_add_fields allows it. It returns the type id.
func upsertType[T typeMsg](t *typeTable[T], req T, canAdd, canOmit bool) (int64, error) {
	if err := checkTypeRequest(t.kind, req); err != nil {
		return 0, err
	}
	stored, ok := t.lookup(req.GetName(), req.GetVersion())
	if !ok {
		return createType(t, req)
	}
	if has(req, fieldID) && req.GetId() != stored.GetId() {
		return 0, errorf(codes.InvalidArgument, "%s type %q: given id %d is different from the stored id %d",
			t.kind, req.GetName(), req.GetId(), stored.GetId())
	}
	merged, err := mergeType(stored, req, canAdd, canOmit)
	if err != nil {
		return 0, errorf(codes.AlreadyExists, "%s type %q already exists with different properties: %v", t.kind, req.GetName(), err)
	}
	if !proto.Equal(merged, stored) {
		if err := t.checkExternalID(merged, stored.GetId()); err != nil {
			return 0, err
		}
		t.put(merged)
	}
	return stored.GetId(), nil
}

func checkTypeRequest(k kind, req typeMsg) error {
	if req.GetName() == "" {
		return errorf(codes.InvalidArgument, "%s type has no name", k)
	}
	if n := utf8.RuneCountInString(req.GetName()); n > maxNameLength {
		return errorf(codes.Internal, "%s type: Data too long for column 'name': %d characters, at most %d", k, n, maxNameLength)
	}
	props := req.GetProperties()
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if props[name] == mlmd.PropertyType_UNKNOWN {
			return errorf(codes.InvalidArgument, "%s type %q: property %q is UNKNOWN", k, req.GetName(), name)
		}
	}
	if has(req, "base_type") {
		return errorf(codes.Unimplemented, "%s type %q: base_type is not supported by this test server", k, req.GetName())
	}
	return nil
}

func createType[T typeMsg](t *typeTable[T], req T) (int64, error) {
	if err := t.checkExternalID(req, 0); err != nil {
		return 0, err
	}
	row := cloneOf(req)
	id := t.newID()
	setInt64(row, fieldID, id)
	t.put(row)
	return id, nil
}

// mergeType returns stored plus the request's new properties and external
// id, or why the request is incompatible: a property with another value
// type, an omitted property without can_omit_fields, or a new property
// without can_add_fields.
func mergeType[T typeMsg](stored, req T, canAdd, canOmit bool) (T, error) {
	var zero T
	want, have := req.GetProperties(), stored.GetProperties()
	omitted := 0
	for _, name := range slices.Sorted(maps.Keys(have)) {
		got, ok := want[name]
		switch {
		case !ok:
			omitted++
		case got != have[name]:
			return zero, fmt.Errorf("property %q is %v in the stored type but %v in the request", name, have[name], got)
		}
	}
	if omitted > 0 && !canOmit {
		return zero, fmt.Errorf("the request omits %d stored properties and can_omit_fields is false", omitted)
	}
	added := len(want) - (len(have) - omitted)
	if added > 0 && !canAdd {
		return zero, fmt.Errorf("the request adds %d properties and can_add_fields is false", added)
	}
	merged := cloneOf(stored)
	props := merged.ProtoReflect().Mutable(fieldOf(merged, "properties")).Map()
	for name, p := range want {
		if _, ok := have[name]; !ok {
			props.Set(protoreflect.ValueOfString(name).MapKey(), protoreflect.ValueOfEnum(protoreflect.EnumNumber(p)))
		}
	}
	if req.GetExternalId() != stored.GetExternalId() {
		copyField(merged, req, fieldExternalID)
	}
	return merged, nil
}

// getType answers Get*Type: NOT_FOUND when the type is missing.
func getType[T typeMsg](t *typeTable[T], name, version string) (T, error) {
	row, ok := t.lookup(name, version)
	if !ok {
		var zero T
		return zero, errorf(codes.NotFound, "no %s type found with name %q and version %q", t.kind, name, version)
	}
	return cloneOf(row), nil
}

// typesByID answers Get*TypesByID: found types in request order.
func typesByID[T typeMsg](t *typeTable[T], ids []int64) []T {
	var out []T
	for _, id := range ids {
		if row, ok := t.rows[id]; ok {
			out = append(out, cloneOf(row))
		}
	}
	return out
}

func allTypes[T typeMsg](t *typeTable[T]) []T {
	var out []T
	for _, id := range slices.Sorted(maps.Keys(t.rows)) {
		out = append(out, cloneOf(t.rows[id]))
	}
	return out
}

// typesByExternalIDs answers Get*TypesByExternalIds with MLMD's errors.
func typesByExternalIDs[T typeMsg](t *typeTable[T], extIDs []string) ([]T, error) {
	if len(extIDs) == 0 {
		return nil, nil
	}
	ids, err := idsForExternalIDs(t.byExtID, extIDs, fmt.Sprintf("%s types", t.kind))
	if err != nil {
		return nil, err
	}
	return typesByID(t, uniqueSorted(ids)), nil
}
