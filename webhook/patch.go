package webhook

import (
	"maps"
	"slices"
	"strings"
)

// patchOp is one RFC 6902 JSON patch operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// pointerEscape escapes one JSON pointer token (RFC 6901): label keys such
// as "sidecar.istio.io/inject" contain "/".
var pointerEscape = strings.NewReplacer("~", "~0", "/", "~1").Replace

// addKeys returns the operations adding the entries of add to the string
// map at path: the whole map when it does not exist yet, else one key at a
// time, so that nothing already there is touched. Sorted: the same request
// gets the same patch.
func addKeys(path string, exists bool, add map[string]string) []patchOp {
	if len(add) == 0 {
		return nil
	}
	if !exists {
		return []patchOp{{Op: "add", Path: path, Value: add}}
	}
	ops := make([]patchOp, 0, len(add))
	for _, k := range slices.Sorted(maps.Keys(add)) {
		ops = append(ops, patchOp{Op: "add", Path: path + "/" + pointerEscape(k), Value: add[k]})
	}
	return ops
}

// missing returns the entries of want whose keys have does not set.
func missing(have, want map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range want {
		if _, set := have[k]; !set {
			out[k] = v
		}
	}
	return out
}
