package profile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

const (
	// EnabledLabel opts a namespace in, as for sync.py.
	EnabledLabel = "pipelines.kubeflow.org/enabled"
	// HashAnnotation carries a digest of the attachment as the hook emitted
	// it, so that status can tell an up-to-date child from a stale one
	// without comparing against server-defaulted fields.
	HashAnnotation = "pipelines.kubeflow.org/profile-controller-hash"
)

// ObjectStoreErrorKey is the status field naming why the namespace's
// artifact Secret could not be given a key (the hook's other children are
// still returned; readiness is "False" until a later sync succeeds).
const ObjectStoreErrorKey = "objectStoreError"

// Sync is the hook: the desired attachments of one namespace and its status.
// It is a function of its inputs except for one side effect: a namespace
// without an artifact Secret gets a key from keys.
func Sync(ctx context.Context, req *Request, s Settings, md pluginconfig.PodMetadata, keys objectstore.Issuer) (*Response, error) {
	if enabled, _ := labels(req.Object)[EnabledLabel].(string); enabled != "true" {
		return &Response{Status: map[string]any{}, Attachments: []Object{}}, nil
	}
	ns := name(req.Object)
	secret, keyErr := artifactSecret(ctx, ns, req.Attachments, keys)
	desired, err := Desired(ns, s, md, secret)
	if err != nil {
		return nil, err
	}
	status := Status(desired, req.Attachments)
	if keyErr != nil {
		status[ReadyKey] = "False"
		status[ObjectStoreErrorKey] = keyErr.Error()
	}
	return &Response{Status: status, Attachments: desired}, nil
}

// Desired returns every child of an enabled namespace, each stamped with
// HashAnnotation. secret is the artifact Secret (ArtifactSecretFor or the
// observed one); nil leaves it out.
func Desired(ns string, s Settings, md pluginconfig.PodMetadata, secret Object) ([]Object, error) {
	children := append(kfpChildren(ns, s, secret), pluginChildren(ns, s, md)...)
	out := make([]Object, 0, len(children))
	for _, c := range children {
		obj, err := toObject(c)
		if err != nil {
			return nil, err
		}
		if err := stamp(obj); err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// toObject turns a typed child into JSON-shaped maps without the fields a
// typed object always carries but the hook does not own (status, a null
// creationTimestamp): metacontroller applies exactly what it is given.
func toObject(child any) (Object, error) {
	if obj, ok := child.(Object); ok {
		return obj, nil
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(child)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", child, err)
	}
	delete(obj, "status")
	prune(obj)
	return obj, nil
}

// prune drops nulls and empty objects (creationTimestamp: null, strategy:
// {}), which typed structs produce and which an apply would read as "clear
// this field". None of the children needs an empty object.
func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(v)
			if len(v) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range v {
				if im, ok := item.(map[string]any); ok {
					prune(im)
				}
			}
		}
	}
}

// stamp sets HashAnnotation to the digest of obj without it.
func stamp(obj Object) error {
	h, err := digest(obj)
	if err != nil {
		return err
	}
	md := metadata(obj)
	annotations, _ := md["annotations"].(map[string]any)
	if annotations == nil {
		annotations = map[string]any{}
	}
	annotations[HashAnnotation] = h
	md["annotations"] = annotations
	obj["metadata"] = md
	return nil
}

// digest hashes the canonical JSON (sorted keys) of obj, ignoring its own
// HashAnnotation.
func digest(obj Object) (string, error) {
	b, err := json.Marshal(withoutHash(obj))
	if err != nil {
		return "", fmt.Errorf("hash %s %s: %w", typeKey(obj), name(obj), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

func withoutHash(obj Object) Object {
	md := metadata(obj)
	annotations, _ := md["annotations"].(map[string]any)
	if _, ok := annotations[HashAnnotation]; !ok {
		return obj
	}
	a := make(map[string]any, len(annotations))
	for k, v := range annotations {
		if k != HashAnnotation {
			a[k] = v
		}
	}
	m := make(map[string]any, len(md))
	for k, v := range md {
		m[k] = v
	}
	if len(a) == 0 {
		delete(m, "annotations")
	} else {
		m["annotations"] = a
	}
	out := make(Object, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	out["metadata"] = m
	return out
}

// AttachmentTypes are the "<Kind>.<apiVersion>" of every child the hook can
// emit. The DecoratorController must have an attachment rule for each, or
// metacontroller refuses the hook's answer (TestAttachmentTypesComplete and
// the manifests tests keep the three in step).
var AttachmentTypes = []string{
	"ConfigMap.v1",
	"Secret.v1",
	"Deployment.apps/v1",
	"Service.v1",
	"ServiceAccount.v1",
	"RoleBinding.rbac.authorization.k8s.io/v1",
	"PodDefault.kubeflow.org/v1alpha1",
}
