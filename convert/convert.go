// Package convert rewrites a workflow compiled by today's KFP, whose driver
// steps are container templates running the `driver` binary with flags, into
// one whose driver steps are executor-plugin templates
// (`plugin: {driver-plugin: {args: {...}}}`) answered by this project's
// plugin. Every other template is left as it was.
//
// Object is the one conversion: the convert command (Workflow) and the
// admission webhook both call it on a decoded workflow and act on its Result.
package convert

import (
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Options tune a conversion.
type Options struct {
	// PodMetadata is the admin's driver pod labels and annotations. They are
	// added to spec.podMetadata, the only metadata Argo puts on the agent pod
	// that runs the plugin; keys the workflow already sets are kept. Installs
	// with the admission webhook leave it empty: the webhook puts them on the
	// agent pod alone instead of every pod of the workflow.
	PodMetadata pluginconfig.PodMetadata
}

// Result says what Object changed.
type Result struct {
	// Templates are the indexes in spec.templates of the driver templates
	// that were replaced, in order.
	Templates []int
	// Names are those templates' names, in the same order.
	Names []string
	// PodMetadata is true when spec.podMetadata was changed.
	PodMetadata bool
}

// Changed reports whether the workflow was modified at all.
func (r Result) Changed() bool { return len(r.Templates) > 0 || r.PodMetadata }

// Workflow converts a KFP-compiled Argo Workflow (YAML or JSON) and returns
// it as YAML. Converting a converted workflow returns it unchanged.
func Workflow(in []byte, opts Options) ([]byte, error) {
	doc, err := decode(in)
	if err != nil {
		return nil, err
	}
	if _, err := Object(doc, opts); err != nil {
		return nil, err
	}
	return encode(doc)
}

// Object converts a decoded workflow (a JSON tree, numbers preferably as
// json.Number) in place and reports what it changed. On error doc may be
// partly converted and must be discarded. A workflow without driver
// templates, or one converted before, is left as it is.
func Object(doc map[string]any, opts Options) (Result, error) {
	spec, err := workflowSpec(doc)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if res.Templates, res.Names, err = convertTemplates(spec); err != nil {
		return Result{}, err
	}
	if res.PodMetadata, err = mergePodMetadata(spec, opts.PodMetadata); err != nil {
		return Result{}, err
	}
	return res, nil
}

func workflowSpec(doc map[string]any) (map[string]any, error) {
	if kind, _ := doc["kind"].(string); kind != "Workflow" {
		return nil, fmt.Errorf("kind %q: want an Argo Workflow", doc["kind"])
	}
	spec, ok := doc["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("spec: want an object")
	}
	return spec, nil
}

// convertTemplates replaces each driver template in spec.templates in place
// and returns the indexes and names of those it replaced.
func convertTemplates(spec map[string]any) ([]int, []string, error) {
	templates, ok := spec["templates"].([]any)
	if !ok {
		return nil, nil, fmt.Errorf("spec.templates: want a list")
	}
	var indexes []int
	var names []string
	for i, raw := range templates {
		t, ok := raw.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("spec.templates[%d]: want an object", i)
		}
		name, _ := t["name"].(string)
		converted, changed, err := convertTemplate(t)
		if err != nil {
			return nil, nil, fmt.Errorf("template %q: %w", name, err)
		}
		if changed {
			templates[i] = converted
			indexes, names = append(indexes, i), append(names, name)
		}
	}
	return indexes, names, nil
}

func convertTemplate(t map[string]any) (map[string]any, bool, error) {
	argv, isDriver, err := driverCommand(t)
	if err != nil || !isDriver {
		return t, false, err
	}
	out, err := pluginTemplate(t, argv)
	return out, err == nil, err
}
