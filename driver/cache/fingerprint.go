package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/cachekey"
	"google.golang.org/protobuf/encoding/protojson"
)

// Fingerprint is KFP's cache fingerprint for in: CustomFingerprint when a
// custom key is set, else HashKey(BuildKey(in), in.PVCNames).
func Fingerprint(in KeyInput) (string, error) {
	if in.CustomKey != "" {
		return CustomFingerprint(in.ComponentName, in.CustomKey), nil
	}
	key, err := BuildKey(in)
	if err != nil {
		return "", err
	}
	return HashKey(key, in.PVCNames)
}

// CustomFingerprint is hex(SHA-256(componentName NUL customKey)), or of
// customKey alone without a component name. The NUL keeps "ab"+"c" and
// "a"+"bc" apart.
func CustomFingerprint(componentName, customKey string) string {
	data := customKey
	if componentName != "" {
		data = componentName + "\x00" + customKey
	}
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

// HashKey is hex(SHA-256(canonical JSON of key with pvcNames)).
func HashKey(key *cachekey.CacheKey, pvcNames []string) (string, error) {
	b, err := canonicalJSON(key, pvcNames)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// canonicalJSON reproduces KFP's bytes: protojson of the CacheKey (whose
// whitespace protojson deliberately varies), decoded into generic JSON and
// re-encoded by encoding/json, which sorts keys, drops whitespace, escapes
// <, > and & and writes numbers in Go's float64 form. Empty fields are
// absent because protojson omits them.
//
// containerSpec.pvcNames is added to the generic JSON by hand: KFP's newer
// cachekey.ContainerSpec has a repeated string field that protojson names
// "pvcNames", but the pinned cachekey module lacks it. The result is the
// same bytes, since protojson omits it when empty and the re-encoding sorts
// it into place.
func canonicalJSON(key *cachekey.CacheKey, pvcNames []string) ([]byte, error) {
	raw, err := protojson.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("encoding cache key: %w", err)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, fmt.Errorf("decoding cache key JSON: %w", err)
	}
	if names := normalizePVCNames(pvcNames); len(names) > 0 {
		addPVCNames(generic, names)
	}
	out, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("re-encoding cache key JSON: %w", err)
	}
	return out, nil
}

func addPVCNames(generic map[string]any, names []string) {
	spec, _ := generic["containerSpec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		generic["containerSpec"] = spec
	}
	list := make([]any, len(names))
	for i, n := range names {
		list[i] = n
	}
	spec["pvcNames"] = list
}

// normalizePVCNames deduplicates and sorts, as KFP's driver does before
// building the key, so mount order never changes the fingerprint.
func normalizePVCNames(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
