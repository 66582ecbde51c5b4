package platform

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// The key check: a field the driver does not know must never be dropped
// silently (a newer SDK may have set it expecting an effect), so every key of
// the raw config is matched, recursively, against the fields of execConfig
// before decoding. It also type-checks values so that errors name the field,
// and renames proto (snake_case) keys to their JSON names as protojson does.

var (
	execConfigType  = reflect.TypeFor[execConfig]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// checkKeys checks v, a value decoded by encoding/json with UseNumber,
// against t and returns it with every key in its JSON-name form.
func checkKeys(v any, t reflect.Type, path string) (any, error) {
	if v == nil {
		return nil, nil // protojson reads null as "not set"
	}
	if t.Kind() == reflect.Pointer {
		return checkKeys(v, t.Elem(), path)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return v, checkOpaque(v, t, path)
	}
	switch t.Kind() {
	case reflect.Struct:
		return checkObject(v, t, path)
	case reflect.Slice:
		return checkList(v, t, path)
	case reflect.Map:
		return checkMap(v, t, path)
	case reflect.String:
		return v, expectKind[string](v, path, "a string")
	case reflect.Bool:
		return v, expectKind[bool](v, path, "a boolean")
	}
	return nil, fieldErr(path, "unexpected field type %s", t) // a bug in execConfig
}

func expectKind[T any](v any, path, what string) error {
	if _, ok := v.(T); !ok {
		return fieldErr(path, "must be %s, got %s", what, jsonKind(v))
	}
	return nil
}

// checkOpaque runs the type's own decoder (protojson for parameter specs,
// integer parsing for int64 fields) so that its error carries the path.
func checkOpaque(v any, t reflect.Type, path string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fieldErr(path, "%v", err)
	}
	u := reflect.New(t).Interface().(json.Unmarshaler)
	if err := u.UnmarshalJSON(b); err != nil {
		return fieldErr(path, "%v", err)
	}
	return nil
}

func checkObject(v any, t reflect.Type, path string) (any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr(path, "must be an object, got %s", jsonKind(v))
	}
	fields := jsonFields(t)
	out := make(map[string]any, len(obj))
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		name, ok := fields.names[key]
		if !ok {
			return nil, unknownField(t, joinPath(path, key))
		}
		if _, dup := out[name]; dup {
			return nil, fieldErr(joinPath(path, name), "given twice (as %q and %q)", name, snake(name))
		}
		val, err := checkKeys(obj[key], fields.types[name], joinPath(path, name))
		if err != nil {
			return nil, err
		}
		out[name] = val
	}
	return out, nil
}

func unknownField(t reflect.Type, path string) error {
	name := path[strings.LastIndex(path, ".")+1:]
	if reason, ok := unsupportedFields[name]; ok && t == execConfigType {
		return fieldErr(path, "not supported: %s", reason)
	}
	return fieldErr(path, "unknown field: this driver does not know what it means, so it refuses the task rather than ignore it")
}

func checkList(v any, t reflect.Type, path string) (any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fieldErr(path, "must be a list, got %s", jsonKind(v))
	}
	out := make([]any, len(list))
	for i, item := range list {
		val, err := checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out[i] = val
	}
	return out, nil
}

func checkMap(v any, t reflect.Type, path string) (any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr(path, "must be an object, got %s", jsonKind(v))
	}
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		if _, err := checkKeys(obj[key], t.Elem(), fmt.Sprintf("%s[%q]", path, key)); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

type structFields struct {
	names map[string]string       // accepted key -> JSON name
	types map[string]reflect.Type // JSON name -> Go type
}

func jsonFields(t reflect.Type) structFields {
	f := structFields{names: map[string]string{}, types: map[string]reflect.Type{}}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		f.names[name] = name
		f.names[snake(name)] = name
		f.types[name] = t.Field(i).Type
	}
	return f
}

// snake turns a JSON name into its proto field name (secretAsEnv ->
// secret_as_env), the other spelling protojson accepts.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
