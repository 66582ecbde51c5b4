package pluginconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// mergeDocument merges a V2_DRIVER_CONFIG-shaped document
// ({"labels":{},"annotations":{}}) into s. The config file may also carry
// "resources": {"requests": {...}, "limits": {...}}.
func (s *Settings) mergeDocument(doc []byte, allowResources bool) error {
	var top map[string]json.RawMessage
	if err := strictObject(doc, &top); err != nil {
		return err
	}
	var errs []string
	for _, key := range slices.Sorted(maps.Keys(top)) {
		var err error
		switch {
		case key == "labels":
			err = mergeMap(s.Labels, top[key])
		case key == "annotations":
			err = mergeMap(s.Annotations, top[key])
		case key == "resources" && allowResources:
			err = s.mergeResources(top[key])
		default:
			errs = append(errs, fmt.Sprintf("unknown key %q (want labels, annotations%s)", key, map[bool]string{true: ", resources"}[allowResources]))
			continue
		}
		if err != nil {
			errs = append(errs, prefixLines(key, err)...)
		}
	}
	return joinLines(errs)
}

func (s *Settings) mergeResources(doc []byte) error {
	var r struct {
		Requests map[string]json.RawMessage `json:"requests"`
		Limits   map[string]json.RawMessage `json:"limits"`
	}
	if err := strictObject(doc, &r); err != nil {
		return err
	}
	var errs []string
	for name, m := range map[string]struct {
		raw map[string]json.RawMessage
		dst *Resources
	}{"requests": {r.Requests, &s.Requests}, "limits": {r.Limits, &s.Limits}} {
		for _, k := range slices.Sorted(maps.Keys(m.raw)) {
			v, err := stringValue(m.raw[k])
			switch {
			case err != nil:
				errs = append(errs, fmt.Sprintf("%s: key %q: %v", name, k, err))
			case k == "cpu":
				m.dst.CPU = v
			case k == "memory":
				m.dst.Memory = v
			default:
				errs = append(errs, fmt.Sprintf("%s: unknown resource %q (want cpu, memory)", name, k))
			}
		}
	}
	return joinLines(errs)
}

// mergeMap decodes a JSON object of string to string into dst, naming every
// key whose value is not a string.
func mergeMap(dst map[string]string, doc []byte) error {
	var raw map[string]json.RawMessage
	if err := strictObject(doc, &raw); err != nil {
		return err
	}
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v, err := stringValue(raw[k])
		if err != nil {
			errs = append(errs, fmt.Sprintf("key %q: %v", k, err))
			continue
		}
		dst[k] = v
	}
	return joinLines(errs)
}

func stringValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	return "", fmt.Errorf("value must be a string, got %s", jsonKind(raw))
}

func jsonKind(raw []byte) string {
	switch {
	case len(raw) == 0:
		return "nothing"
	case bytes.Equal(raw, []byte("null")):
		return "null"
	case bytes.Equal(raw, []byte("true")) || bytes.Equal(raw, []byte("false")):
		return "a boolean"
	case raw[0] == '{':
		return "an object"
	case raw[0] == '[':
		return "an array"
	default:
		return "a number"
	}
}

// strictObject decodes a JSON object, refusing anything else with a message
// that says what was found.
func strictObject(doc []byte, v any) error {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || doc[0] != '{' {
		return fmt.Errorf("must be a JSON object, got %s", jsonKind(doc))
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("key %q: must be a JSON object, got %s", typeErr.Field, typeErr.Value)
		}
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: trailing data after the object")
	}
	return nil
}

func prefixLines(prefix string, err error) []string {
	var out []string
	for _, l := range splitErrors(err) {
		out = append(out, prefix+": "+l)
	}
	return out
}

func joinLines(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	return errors.New(strings.Join(lines, "\n"))
}
