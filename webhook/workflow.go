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
	// NotConvertedAnnotation says why a KFP workflow was left with its
	// driver pods (a native-line workflow without --convert-native-line).
	NotConvertedAnnotation = AnnotationPrefix + "not-converted"
)

// Workflows configures the workflow admissions.
type Workflows struct {
	// ConvertNativeLine converts workflows compiled by KFP master (the
	// native line, no ML Metadata) too. Off by default: the driver's native
	// line is tested against the in-repo API server, not yet against a
	// real KFP master one; left alone, they run with KFP's own driver pods.
	ConvertNativeLine bool
}

// nativeLineReason is the annotation's and warning's text.
const nativeLineReason = "KFP master (native line) driver templates %s: the webhook converts that line only when asked, " +
	"so the workflow runs with KFP's driver pods (the webhook's --convert-native-line converts it)"

// mutate converts KFP's driver templates of a workflow being created. The
// workflow gets no spec.podMetadata: the admin's pod metadata goes on the
// agent pod alone (mutatePod).
func (o Workflows) mutate(namespace string, head *workflowHead) mutation {
	who := head.name(namespace)
	if head.annotations()[OptOutAnnotation] == "false" {
		return mutation{outcome: outcomeOptedOut, log: fmt.Sprintf("workflow %s: %s=false, not converted", who, OptOutAnnotation)}
	}
	doc, err := head.convertible()
	if err != nil {
		return invalid("workflow", err)
	}
	res, err := convert.Object(doc, convert.Options{KeepNativeLine: !o.ConvertNativeLine})
	if err != nil {
		return mutation{outcome: outcomeInvalid, log: fmt.Sprintf("workflow %s: not converted: %v", who, err),
			warnings: []string{fmt.Sprintf("kfp-driver-plugin: workflow not converted (it runs with the stock driver pods): %v", err)}}
	}
	if len(res.NativeLine) > 0 {
		why := fmt.Sprintf(nativeLineReason, strings.Join(res.NativeLine, ", "))
		return mutation{
			outcome:  outcomeNativeLine,
			patch:    []patchOp{annotationOp(NotConvertedAnnotation, why, head.Metadata != nil, head.annotations() != nil)},
			log:      fmt.Sprintf("workflow %s: not converted: %s", who, why),
			warnings: []string{"kfp-driver-plugin: workflow not converted: " + why},
		}
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
	return append(ops, annotationOp(ConvertedAnnotation, strings.Join(res.Names, ","), hasMeta, hasAnnotations))
}

// annotationOp sets one annotation, whether the workflow has annotations,
// none or no metadata.
func annotationOp(key, value string, hasMeta, hasAnnotations bool) patchOp {
	switch {
	case !hasMeta:
		return patchOp{Op: "add", Path: "/metadata", Value: map[string]any{"annotations": map[string]string{key: value}}}
	case !hasAnnotations:
		return patchOp{Op: "add", Path: "/metadata/annotations", Value: map[string]string{key: value}}
	}
	// "add" of an existing member replaces it: a stale record copied from
	// another workflow is corrected.
	return patchOp{Op: "add", Path: "/metadata/annotations/" + pointerEscape(key), Value: value}
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
