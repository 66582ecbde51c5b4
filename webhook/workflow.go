package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
)

// Annotations on workflows, under a prefix of our own (KFP's and Argo's
// reserved prefixes are left alone).
const (
	// AnnotationPrefix is the prefix of our own annotations.
	AnnotationPrefix = "kfp-driver-plugin.github.io/"
	// OptOutAnnotation set to "false" on a workflow leaves it unconverted:
	// it runs with KFP's stock driver pods.
	OptOutAnnotation = AnnotationPrefix + "convert"
	// ConvertedAnnotation records what the webhook did: the names of the
	// driver templates it turned into plugin templates, comma-separated.
	ConvertedAnnotation = AnnotationPrefix + "converted-templates"
)

// mutateWorkflow converts KFP's driver templates of a workflow being
// created. The workflow gets no spec.podMetadata: the admin's pod metadata
// goes on the agent pod alone (mutatePod).
func mutateWorkflow(namespace string, head *workflowHead) mutation {
	who := head.name(namespace)
	if head.annotations()[OptOutAnnotation] == "false" {
		return mutation{outcome: outcomeOptedOut, log: fmt.Sprintf("workflow %s: %s=false, not converted", who, OptOutAnnotation)}
	}
	doc, err := head.convertible()
	if err != nil {
		return invalid("workflow", err)
	}
	res, err := convert.Object(doc, convert.Options{})
	if err != nil {
		return mutation{outcome: outcomeInvalid, log: fmt.Sprintf("workflow %s: not converted: %v", who, err),
			warnings: []string{fmt.Sprintf("kfp-driver-plugin: workflow not converted (it runs with the stock driver pods): %v", err)}}
	}
	if !res.Changed() {
		return mutation{outcome: outcomeUnchanged, log: fmt.Sprintf("workflow %s: no KFP driver templates to convert", who)}
	}
	return mutation{
		outcome: outcomePatched,
		patch:   workflowPatch(doc, res, head.Metadata != nil, head.annotations() != nil),
		log:     fmt.Sprintf("workflow %s: converted %d driver templates to plugin templates: %s", who, len(res.Names), strings.Join(res.Names, ", ")),
	}
}

// workflowPatch replaces exactly the converted templates and records them.
func workflowPatch(doc map[string]any, res convert.Result, hasMeta, hasAnnotations bool) []patchOp {
	templates := doc["spec"].(map[string]any)["templates"].([]any) // convert.Object checked both
	ops := make([]patchOp, 0, len(res.Templates)+1)
	for _, i := range res.Templates {
		ops = append(ops, patchOp{Op: "replace", Path: "/spec/templates/" + strconv.Itoa(i), Value: templates[i]})
	}
	names := strings.Join(res.Names, ",")
	switch {
	case !hasMeta:
		return append(ops, patchOp{Op: "add", Path: "/metadata", Value: map[string]any{"annotations": map[string]string{ConvertedAnnotation: names}}})
	case !hasAnnotations:
		return append(ops, patchOp{Op: "add", Path: "/metadata/annotations", Value: map[string]string{ConvertedAnnotation: names}})
	}
	// "add" of an existing member replaces it: a stale record copied from
	// another workflow is corrected.
	return append(ops, patchOp{Op: "add", Path: "/metadata/annotations/" + pointerEscape(ConvertedAnnotation), Value: names})
}

// workflowHead is the part of a workflow the webhook decodes: KFP's
// workflows carry every task's specs inline in their DAG templates, and
// decoding all of that into a tree costs most of an admission for nothing.
type workflowHead struct {
	Kind     string        `json:"kind"`
	Metadata *workflowMeta `json:"metadata"`
	Spec     *struct {
		// Each template's fields, undecoded: one pass over the workflow
		// finds the templates that have a container.
		Templates []map[string]json.RawMessage `json:"templates"`
	} `json:"spec"`
}

type workflowMeta struct {
	Name         string            `json:"name"`
	GenerateName string            `json:"generateName"`
	Namespace    string            `json:"namespace"`
	Annotations  map[string]string `json:"annotations"`
}

func (h *workflowHead) annotations() map[string]string {
	if h.Metadata == nil {
		return nil
	}
	return h.Metadata.Annotations
}

func (h *workflowHead) name(namespace string) string {
	m := workflowMeta{}
	if h.Metadata != nil {
		m = *h.Metadata
	}
	return objectName(namespace, map[string]any{"namespace": m.Namespace, "name": m.Name, "generateName": m.GenerateName})
}

// convertible is the workflow as convert.Object sees it: kind, and
// spec.templates with every template that could be a driver template (it
// has a container) decoded in full; the others, which convert.Object
// leaves alone, stand in as empty objects so that indexes stay the same.
func (h *workflowHead) convertible() (map[string]any, error) {
	doc := map[string]any{"kind": h.Kind}
	if h.Spec == nil {
		return doc, nil // convert.Object reports the missing spec
	}
	spec := map[string]any{}
	doc["spec"] = spec
	if h.Spec.Templates == nil {
		return doc, nil
	}
	templates := make([]any, len(h.Spec.Templates))
	for i, fields := range h.Spec.Templates {
		if c, ok := fields["container"]; !ok || string(c) == "null" {
			templates[i] = map[string]any{}
			continue
		}
		t := make(map[string]any, len(fields))
		for k, raw := range fields {
			v, err := decodeValue(raw)
			if err != nil {
				return nil, fmt.Errorf("spec.templates[%d].%s: %w", i, k, err)
			}
			t[k] = v
		}
		templates[i] = t
	}
	spec["templates"] = templates
	return doc, nil
}

// decodeValue reads JSON keeping numbers as written (json.Number): a
// replaced template must carry the user's values exactly.
func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
