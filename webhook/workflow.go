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
func mutateWorkflow(namespace string, raw []byte) mutation {
	doc, err := decodeTree(raw)
	if err != nil {
		return invalid("workflow", err)
	}
	meta, _ := doc["metadata"].(map[string]any)
	who := objectName(namespace, meta)
	annotations, hasAnnotations := stringMap(meta, "annotations")
	if annotations[OptOutAnnotation] == "false" {
		return mutation{outcome: outcomeOptedOut, log: fmt.Sprintf("workflow %s: %s=false, not converted", who, OptOutAnnotation)}
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
		patch:   workflowPatch(doc, res, meta != nil, hasAnnotations),
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

// decodeTree reads a JSON object keeping numbers as written (json.Number):
// a replaced template must carry the user's values exactly.
func decodeTree(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the object")
	}
	return doc, nil
}
