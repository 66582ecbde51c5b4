package mlmdserver

import (
	"slices"
	"strings"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// filter is a parsed filter_query: a conjunction of predicates. MLMD turns
// a filter into SQL joins, so predicates on the same neighbour alias
// (contexts_a.name = 'x' AND contexts_a.type = 'y') must hold for one and
// the same neighbour, while different aliases are independent joins.
type filter struct {
	own    []predicate
	groups []*group
}

// relation is the neighbourhood a predicate reaches through its alias.
type relation int

const (
	relSelf           relation = iota
	relContexts                // contexts_<alias>: contexts of an artifact or execution
	relParentContexts          // parent_contexts_<alias>: parents of a context
	relChildContexts           // child_contexts_<alias>: children of a context
)

type group struct {
	rel   relation
	alias string
	preds []predicate
}

// valType is the SQL type of an attribute or literal.
type valType int

const (
	vInt valType = iota
	vDouble
	vString
	vBool
	vEnum
)

func (t valType) String() string {
	return [...]string{"integer", "double", "string", "boolean", "enum"}[t]
}

// scalar is one comparable value.
type scalar struct {
	t valType
	i int64 // vInt and vEnum
	f float64
	s string
	b bool
}

func (a scalar) equals(b scalar) bool {
	numeric := func(v scalar) bool { return v.t == vInt || v.t == vDouble }
	if numeric(a) && numeric(b) {
		if a.t == vDouble || b.t == vDouble {
			return a.float() == b.float()
		}
		return a.i == b.i
	}
	return a == b
}

func (a scalar) float() float64 {
	if a.t == vDouble {
		return a.f
	}
	return float64(a.i)
}

// attribute is what a predicate reads from a node.
type attribute struct {
	name string // a node field, or "properties" / "custom_properties"
	prop string // the property name for (custom_)properties
	t    valType
	enum protoreflect.EnumDescriptor // for state and last_known_state
}

// predicate is "attr = v", "attr != v", "attr IN (...)" or "attr NOT IN
// (...)"; != and NOT IN are the negated forms.
type predicate struct {
	attr   attribute
	negate bool
	values []scalar
}

func (f *filter) add(rel relation, alias string, p predicate) {
	if rel == relSelf {
		f.own = append(f.own, p)
		return
	}
	for _, g := range f.groups {
		if g.rel == rel && g.alias == alias {
			g.preds = append(g.preds, p)
			return
		}
	}
	f.groups = append(f.groups, &group{rel: rel, alias: alias, preds: []predicate{p}})
}

// match reports whether node n of kind k passes the filter; a nil filter
// passes everything.
func (f *filter) match(st *store, k kind, n node) bool {
	if f == nil {
		return true
	}
	return allHold(f.own, st, k, n) && !slices.ContainsFunc(f.groups, func(g *group) bool {
		return !g.holds(st, k, n)
	})
}

func allHold(preds []predicate, st *store, k kind, n node) bool {
	for _, p := range preds {
		if !p.holds(st, k, n) {
			return false
		}
	}
	return true
}

// holds reports whether one neighbour of n satisfies every predicate of g.
func (g *group) holds(st *store, k kind, n node) bool {
	for _, id := range st.neighbours(g.rel, k, n.GetId()) {
		if c, ok := st.contexts.get(id); ok && allHold(g.preds, st, contextKind, c) {
			return true
		}
	}
	return false
}

func (st *store) neighbours(rel relation, k kind, id int64) []int64 {
	switch {
	case rel == relContexts && k == artifactKind:
		return st.attributions.to(id)
	case rel == relContexts && k == executionKind:
		return st.associations.to(id)
	case rel == relParentContexts:
		return st.parents.from(id)
	case rel == relChildContexts:
		return st.parents.to(id)
	}
	return nil
}

// holds compares like SQL: a missing (NULL) value never satisfies the
// predicate, neither = nor !=.
func (p predicate) holds(st *store, k kind, n node) bool {
	v, ok := p.attr.value(st, k, n)
	if !ok {
		return false
	}
	return slices.ContainsFunc(p.values, v.equals) != p.negate
}

func (a attribute) value(st *store, k kind, n node) (scalar, bool) {
	switch a.name {
	case "id":
		return scalar{t: vInt, i: n.GetId()}, true
	case "type_id":
		return scalar{t: vInt, i: n.GetTypeId()}, true
	case "type":
		return scalar{t: vString, s: st.typeName(k, n.GetTypeId())}, true
	case fieldCreateTime:
		return scalar{t: vInt, i: n.GetCreateTimeSinceEpoch()}, true
	case fieldUpdateTime:
		return scalar{t: vInt, i: n.GetLastUpdateTimeSinceEpoch()}, true
	case "uri":
		return scalar{t: vString, s: n.(*mlmd.Artifact).GetUri()}, true
	case "properties":
		return propertyValue(n.GetProperties()[a.prop], a.t)
	case "custom_properties":
		return propertyValue(n.GetCustomProperties()[a.prop], a.t)
	}
	// name, external_id, state and last_known_state may be unset (NULL).
	fd := fieldOf(n, protoreflect.Name(a.name))
	if !n.ProtoReflect().Has(fd) {
		return scalar{}, false
	}
	v := n.ProtoReflect().Get(fd)
	if a.t == vEnum {
		return scalar{t: vEnum, i: int64(v.Enum())}, true
	}
	return scalar{t: vString, s: v.String()}, true
}

// propertyValue reads one typed column of a property, as MLMD's property
// table does: a property stored with another value kind reads as NULL.
func propertyValue(v *mlmd.Value, t valType) (scalar, bool) {
	switch x := v.GetValue().(type) {
	case *mlmd.Value_IntValue:
		return scalar{t: vInt, i: x.IntValue}, t == vInt
	case *mlmd.Value_DoubleValue:
		return scalar{t: vDouble, f: x.DoubleValue}, t == vDouble
	case *mlmd.Value_StringValue:
		return scalar{t: vString, s: x.StringValue}, t == vString
	case *mlmd.Value_BoolValue:
		return scalar{t: vBool, b: x.BoolValue}, t == vBool
	}
	return scalar{}, false
}

// nodeAttributes are the attributes a filter may read from the listed node
// itself, by node kind.
func nodeAttributes(k kind) map[string]attribute {
	attrs := map[string]attribute{
		"id":            {t: vInt},
		"type_id":       {t: vInt},
		"type":          {t: vString},
		"name":          {t: vString},
		"external_id":   {t: vString},
		fieldCreateTime: {t: vInt},
		fieldUpdateTime: {t: vInt},
	}
	switch k {
	case artifactKind:
		attrs["uri"] = attribute{t: vString}
		attrs["state"] = attribute{t: vEnum, enum: mlmd.Artifact_UNKNOWN.Descriptor()}
	case executionKind:
		attrs["last_known_state"] = attribute{t: vEnum, enum: mlmd.Execution_UNKNOWN.Descriptor()}
	}
	return named(attrs)
}

// neighbourAttributes are the attributes a filter may read from a
// neighbouring context.
func neighbourAttributes(rel relation) map[string]attribute {
	attrs := map[string]attribute{"id": {t: vInt}, "name": {t: vString}, "type": {t: vString}}
	if rel == relContexts {
		attrs[fieldCreateTime] = attribute{t: vInt}
		attrs[fieldUpdateTime] = attribute{t: vInt}
	}
	return named(attrs)
}

func named(attrs map[string]attribute) map[string]attribute {
	for name, a := range attrs {
		a.name = name
		attrs[name] = a
	}
	return attrs
}

var propertyValueTypes = map[string]valType{
	"int_value":    vInt,
	"double_value": vDouble,
	"string_value": vString,
	"bool_value":   vBool,
}

// neighbourPrefixes maps alias prefixes to relations, longest first so that
// "parent_contexts_" is not read as "contexts_".
var neighbourPrefixes = []struct {
	prefix string
	rel    relation
}{
	{"parent_contexts_", relParentContexts},
	{"child_contexts_", relChildContexts},
	{"contexts_", relContexts},
}

// unsupportedNeighbours are valid in MLMD but not implemented here.
var unsupportedNeighbours = []string{"artifacts_", "executions_", "events_"}

// resolve maps a dotted field path to the relation, alias and attribute it
// denotes for nodes of kind k, or explains why the path is unsupported.
func resolve(path []string, k kind) (relation, string, attribute, string) {
	switch {
	case len(path) == 1:
		a, ok := nodeAttributes(k)[path[0]]
		if !ok {
			return 0, "", attribute{}, "unknown or unsupported " + k.String() + " attribute " + path[0]
		}
		return relSelf, "", a, ""
	case len(path) == 3 && (path[0] == "properties" || path[0] == "custom_properties"):
		t, ok := propertyValueTypes[path[2]]
		if !ok {
			return 0, "", attribute{}, "property value must be int_value, double_value, string_value or bool_value, not " + path[2]
		}
		return relSelf, "", attribute{name: path[0], prop: path[1], t: t}, ""
	case len(path) == 2:
		return resolveNeighbour(path, k)
	}
	return 0, "", attribute{}, "unsupported field " + strings.Join(path, ".")
}

func resolveNeighbour(path []string, k kind) (relation, string, attribute, string) {
	for _, n := range neighbourPrefixes {
		alias, ok := strings.CutPrefix(path[0], n.prefix)
		if !ok || alias == "" {
			continue
		}
		if (n.rel == relContexts) == (k == contextKind) {
			return 0, "", attribute{}, path[0] + " cannot be used when listing " + k.String() + "s"
		}
		a, ok := neighbourAttributes(n.rel)[path[1]]
		if !ok {
			return 0, "", attribute{}, "unsupported attribute " + path[1] + " of " + path[0]
		}
		return n.rel, alias, a, ""
	}
	for _, prefix := range unsupportedNeighbours {
		if strings.HasPrefix(path[0], prefix) {
			return 0, "", attribute{}, prefix + "<alias> filters are not supported by this test server"
		}
	}
	return 0, "", attribute{}, "unsupported field " + strings.Join(path, ".")
}
