package mlmdserver

import (
	"fmt"
	"maps"
	"slices"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// node is what Artifact, Execution and Context have in common. One generic
// implementation of create, update, read and list serves all three, which
// keeps their semantics identical, as they are in MLMD.
type node interface {
	proto.Message
	GetId() int64
	GetTypeId() int64
	GetName() string
	GetExternalId() string
	GetProperties() map[string]*mlmd.Value
	GetCustomProperties() map[string]*mlmd.Value
	GetCreateTimeSinceEpoch() int64
	GetLastUpdateTimeSinceEpoch() int64
}

// Field names shared by the node (and partly the type) messages. Optional
// proto2 fields are reached through reflection so that "set" and "unset"
// stay distinguishable, which MLMD's NULL semantics rely on.
const (
	fieldID             = "id"
	fieldTypeID         = "type_id"
	fieldType           = "type"
	fieldName           = "name"
	fieldExternalID     = "external_id"
	fieldCreateTime     = "create_time_since_epoch"
	fieldUpdateTime     = "last_update_time_since_epoch"
	fieldSystemMetadata = "system_metadata"
)

func fieldOf(m proto.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic(fmt.Sprintf("mlmdserver: %s has no field %s", m.ProtoReflect().Descriptor().FullName(), name))
	}
	return fd
}

func has(m proto.Message, name protoreflect.Name) bool {
	return m.ProtoReflect().Has(fieldOf(m, name))
}

func setInt64(m proto.Message, name protoreflect.Name, v int64) {
	m.ProtoReflect().Set(fieldOf(m, name), protoreflect.ValueOfInt64(v))
}

func setString(m proto.Message, name protoreflect.Name, v string) {
	m.ProtoReflect().Set(fieldOf(m, name), protoreflect.ValueOfString(v))
}

func clearField(m proto.Message, name protoreflect.Name) {
	m.ProtoReflect().Clear(fieldOf(m, name))
}

// copyField makes dst's field equal to src's, including its presence.
func copyField(dst, src proto.Message, name protoreflect.Name) {
	fd := fieldOf(src, name)
	if src.ProtoReflect().Has(fd) {
		dst.ProtoReflect().Set(fd, src.ProtoReflect().Get(fd))
		return
	}
	dst.ProtoReflect().Clear(fd)
}

func cloneOf[T proto.Message](m T) T {
	return proto.Clone(m).(T)
}

type nameKey struct {
	typeID int64
	name   string
}

// nodeTable holds the rows of one node kind with the unique indexes MLMD's
// schema declares: (type_id, name) and external_id.
type nodeTable[T node] struct {
	kind    kind
	j       *journal
	rows    map[int64]T
	byName  map[nameKey]int64
	byExtID map[string]int64
	lastID  int64
}

func newNodeTable[T node](k kind, j *journal) *nodeTable[T] {
	return &nodeTable[T]{kind: k, j: j, rows: map[int64]T{}, byName: map[nameKey]int64{}, byExtID: map[string]int64{}}
}

// nextID is not journaled, so ids are never reused, even after a rollback.
func (t *nodeTable[T]) nextID() int64 {
	t.lastID++
	return t.lastID
}

func (t *nodeTable[T]) get(id int64) (T, bool) {
	row, ok := t.rows[id]
	return row, ok
}

// put inserts or replaces a row and journals the inverse.
func (t *nodeTable[T]) put(row T) {
	journaledPut(t.j, t.rows, row.GetId(), row, t.index, t.unindex)
}

func (t *nodeTable[T]) index(row T) {
	if has(row, fieldName) {
		t.byName[nameKey{row.GetTypeId(), row.GetName()}] = row.GetId()
	}
	if has(row, fieldExternalID) {
		t.byExtID[row.GetExternalId()] = row.GetId()
	}
}

func (t *nodeTable[T]) unindex(row T) {
	if has(row, fieldName) {
		delete(t.byName, nameKey{row.GetTypeId(), row.GetName()})
	}
	if has(row, fieldExternalID) {
		delete(t.byExtID, row.GetExternalId())
	}
}

func (t *nodeTable[T]) byTypeAndName(typeID int64, name string) (T, bool) {
	id, ok := t.byName[nameKey{typeID, name}]
	if !ok {
		var zero T
		return zero, false
	}
	return t.get(id)
}

func (t *nodeTable[T]) allIDs() []int64 { return slices.Sorted(maps.Keys(t.rows)) }

// idsOfType returns the ids of all rows of one type, ascending.
func (t *nodeTable[T]) idsOfType(typeID int64) []int64 {
	var ids []int64
	for id, row := range t.rows {
		if row.GetTypeId() == typeID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// checkUnique enforces the unique indexes for row, which will get id self.
func (t *nodeTable[T]) checkUnique(row T, self int64) error {
	if has(row, fieldName) {
		if owner, ok := t.byName[nameKey{row.GetTypeId(), row.GetName()}]; ok && owner != self {
			return errorf(codes.AlreadyExists, "%s with type_id %d and name %q already exists (id %d)",
				t.kind, row.GetTypeId(), row.GetName(), owner)
		}
	}
	if has(row, fieldExternalID) {
		if owner, ok := t.byExtID[row.GetExternalId()]; ok && owner != self {
			return errorf(codes.AlreadyExists, "%s with external_id %q already exists (id %d)",
				t.kind, row.GetExternalId(), owner)
		}
	}
	return nil
}
