package profile

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Object is one Kubernetes object as JSON decodes it.
type Object = map[string]any

// Request is the body metacontroller POSTs to a DecoratorController sync
// hook: "object" is the decorated Namespace and "attachments" maps
// "<Kind>.<apiVersion>" to the observed children of that type, keyed by
// "<namespace>/<name>" (the parent is cluster-scoped). A CompositeController
// sends the same as "parent" and "children"; both spellings are accepted so
// that the hook also works behind one.
type Request struct {
	Object      Object                       `json:"object,omitempty"`
	Attachments map[string]map[string]Object `json:"attachments,omitempty"`
	Parent      Object                       `json:"parent,omitempty"`
	Children    map[string]map[string]Object `json:"children,omitempty"`
	Finalizing  bool                         `json:"finalizing,omitempty"`
}

// Response is the hook's answer: the status to set on the Namespace and the
// complete list of desired attachments (metacontroller deletes observed
// attachments that are not listed).
type Response struct {
	Status      map[string]any `json:"status"`
	Attachments []Object       `json:"attachments"`
}

// DecodeRequest parses and normalises a sync request: the parent ends up in
// Object and the observed children in Attachments.
func DecodeRequest(body []byte) (*Request, error) {
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decode sync request: %w", err)
	}
	if req.Object == nil {
		req.Object = req.Parent
	}
	if req.Attachments == nil {
		req.Attachments = req.Children
	}
	if req.Object == nil {
		return nil, errors.New(`decode sync request: no "object" (or "parent")`)
	}
	if name(req.Object) == "" {
		return nil, errors.New("decode sync request: the object has no metadata.name")
	}
	return &req, nil
}

// composite reports whether the request used CompositeController names, so
// that the reply can use them too.
func (r *Request) composite() bool { return r.Parent != nil && r.Children != nil }

// metadata returns obj.metadata, or an empty map.
func metadata(obj Object) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		return map[string]any{}
	}
	return md
}

func name(obj Object) string {
	s, _ := metadata(obj)["name"].(string)
	return s
}

func namespaceOf(obj Object) string {
	s, _ := metadata(obj)["namespace"].(string)
	return s
}

func labels(obj Object) map[string]any {
	l, _ := metadata(obj)["labels"].(map[string]any)
	return l
}

func annotation(obj Object, key string) string {
	a, _ := metadata(obj)["annotations"].(map[string]any)
	s, _ := a[key].(string)
	return s
}

// typeKey is metacontroller's attachment map key: "<Kind>.<apiVersion>".
func typeKey(obj Object) string {
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	return kind + "." + apiVersion
}
