// Package convert rewrites a workflow compiled by today's KFP, whose driver
// steps are container templates running the `driver` binary with flags, into
// one whose driver steps are executor-plugin templates
// (`plugin: {driver-plugin: {args: {...}}}`) answered by this project's
// plugin. Every other template is left as it was.
package convert

import (
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Options tune a conversion.
type Options struct {
	// PodMetadata is the admin's driver pod labels and annotations. They are
	// added to spec.podMetadata, the only metadata Argo puts on the agent pod
	// that runs the plugin; keys the workflow already sets are kept.
	PodMetadata pluginconfig.PodMetadata
}

// Workflow converts a KFP-compiled Argo Workflow (YAML or JSON) and returns
// it as YAML. Converting a converted workflow returns it unchanged.
func Workflow(in []byte, opts Options) ([]byte, error) {
	doc, err := decode(in)
	if err != nil {
		return nil, err
	}
	spec, err := workflowSpec(doc)
	if err != nil {
		return nil, err
	}
	if err := convertTemplates(spec); err != nil {
		return nil, err
	}
	if err := mergePodMetadata(spec, opts.PodMetadata); err != nil {
		return nil, err
	}
	return encode(doc)
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

// convertTemplates replaces each driver template in spec.templates in place.
func convertTemplates(spec map[string]any) error {
	templates, ok := spec["templates"].([]any)
	if !ok {
		return fmt.Errorf("spec.templates: want a list")
	}
	for i, raw := range templates {
		t, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("spec.templates[%d]: want an object", i)
		}
		converted, err := convertTemplate(t)
		if err != nil {
			name, _ := t["name"].(string)
			return fmt.Errorf("template %q: %w", name, err)
		}
		templates[i] = converted
	}
	return nil
}

func convertTemplate(t map[string]any) (map[string]any, error) {
	argv, isDriver, err := driverCommand(t)
	if err != nil || !isDriver {
		return t, err
	}
	return pluginTemplate(t, argv)
}
