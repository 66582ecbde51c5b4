package profile

import (
	"fmt"
	"sort"
	"strings"
)

// ReadyKey is the status field sync.py sets ("True" or "False").
const ReadyKey = "kubeflow-pipelines-ready"

// Status compares the observed attachments with the desired ones. Ready
// means the two sets are equal (same types, namespaces and names, nothing
// extra) and every observed child carries the hash of what is desired now,
// so a settings change reads "not ready" until metacontroller has applied
// it. Details name each difference as "<Kind>.<apiVersion> <ns>/<name>".
func Status(desired []Object, observed map[string]map[string]Object) map[string]any {
	want := map[string]string{} // identity -> hash
	for _, obj := range desired {
		want[identity(typeKey(obj), namespaceOf(obj)+"/"+name(obj))] = annotation(obj, HashAnnotation)
	}
	var missing, unexpected, outdated []string
	seen := map[string]bool{}
	for _, key := range sortedTypes(observed) {
		for mapKey, obj := range observed[key] {
			id := identity(key, objectKey(mapKey, obj))
			seen[id] = true
			hash, ok := want[id]
			switch {
			case !ok:
				unexpected = append(unexpected, id)
			case annotation(obj, HashAnnotation) != hash:
				outdated = append(outdated, id)
			}
		}
	}
	for id := range want {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	return statusMap(missing, unexpected, outdated)
}

func statusMap(missing, unexpected, outdated []string) map[string]any {
	ready := len(missing)+len(unexpected)+len(outdated) == 0
	st := map[string]any{ReadyKey: map[bool]string{true: "True", false: "False"}[ready]}
	for k, ids := range map[string][]string{"missing": missing, "unexpected": unexpected, "outdated": outdated} {
		if len(ids) > 0 {
			sort.Strings(ids)
			st[k] = ids
		}
	}
	return st
}

func identity(typeKey, nsName string) string { return fmt.Sprintf("%s %s", typeKey, nsName) }

// objectKey is "<namespace>/<name>" from the object's metadata, falling back
// to metacontroller's map key (which has that form for a cluster-scoped
// parent) when the observed object is partial.
func objectKey(mapKey string, obj Object) string {
	if n, ns := name(obj), namespaceOf(obj); n != "" && ns != "" {
		return ns + "/" + n
	}
	if strings.Contains(mapKey, "/") {
		return mapKey
	}
	return "/" + mapKey
}

func sortedTypes(m map[string]map[string]Object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
