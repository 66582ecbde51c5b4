package mlmdserver

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestParseFilterShapes(t *testing.T) {
	tests := []struct {
		query      string
		k          kind
		own        int
		groups     int
		firstValue scalar
	}{
		{"custom_properties.parent_dag_id.int_value = 42", executionKind, 1, 0, scalar{t: vInt, i: 42}},
		{"custom_properties.x.double_value = -1.5e2", executionKind, 1, 0, scalar{t: vDouble, f: -150}},
		{`name = 'it\'s'`, executionKind, 1, 0, scalar{t: vString, s: "it's"}},
		{"custom_properties.b.bool_value = true", executionKind, 1, 0, scalar{t: vBool, b: true}},
		{"contexts_a.name = 'r' AND contexts_a.type = 't' AND contexts_b.id = 1", artifactKind, 0, 2, scalar{}},
		{"((id = 1)) AND (name = 'x' AND id IN (1, 2))", contextKind, 3, 0, scalar{t: vInt, i: 1}},
		{"  ", executionKind, 0, 0, scalar{}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			f, err := parseFilter(tc.query, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(tc.query) == "" {
				if f != nil {
					t.Fatalf("empty query parsed to %+v, want nil", f)
				}
				return
			}
			if len(f.own) != tc.own || len(f.groups) != tc.groups {
				t.Fatalf("got %d own predicates and %d groups, want %d and %d", len(f.own), len(f.groups), tc.own, tc.groups)
			}
			if tc.own > 0 && f.own[0].values[0] != tc.firstValue {
				t.Errorf("first value = %+v, want %+v", f.own[0].values[0], tc.firstValue)
			}
		})
	}
}

// TestParseFilterErrorsExplain checks that a rejected filter says what is
// wrong, so a developer can fix the query or the server.
func TestParseFilterErrorsExplain(t *testing.T) {
	tests := []struct{ query, want string }{
		{"id = 1 OR id = 2", "OR at offset 7 is not supported"},
		{"last_known_state = RUNNING", "unknown or unsupported context attribute last_known_state"},
		{"id >= 2", "operator >= at offset 3 is not supported"},
		{"name = run", "unquoted word run"},
		{"id = 'x'", "cannot compare integer id with string x"},
		{"parent_contexts_a.uri = 'x'", "unsupported attribute uri of parent_contexts_a"},
		{"contexts_a.id = 1", "contexts_a cannot be used when listing contexts"},
		{"artifacts_a.id = 1", "artifacts_<alias> filters are not supported"},
		{"custom_properties.p.struct_value = 1", "property value must be"},
		{"name = 'x", "unterminated"},
		{"id = 1 #", "unexpected character"},
		{"name ! 'x'", "unexpected '!'"},
	}
	_, err := parseFilter("state = live", artifactKind)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "live is not a value of State") {
		t.Errorf("lower-case enum name: got %v, want INVALID_ARGUMENT (enum names are case-sensitive)", err)
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			_, err := parseFilter(tc.query, contextKind)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want INVALID_ARGUMENT mentioning %q", err, tc.want)
			}
		})
	}
}
