package convert

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cmdline"
)

// replyOutputs are the output parameters the plugin's reply carries (named
// like the driver's output files; parent-dag-task-id-path is the native
// line's execution-id).
var replyOutputs = []string{"execution-id", "iteration-count", "condition", "cached-decision", "pod-spec-patch", "parent-dag-task-id-path"}

// pluginOutputs declares the driver template's output parameters for a
// plugin node. Argo validates output parameters of every template type to
// have exactly one valueFrom source (path, jsonPath, jqFilter, parameter,
// expression or supplied); a bare default is rejected. For plugin templates
// it checks no particular source, and the controller copies the node's
// outputs wholesale from the plugin's reply. "supplied" - the value comes
// from outside (here the reply) - is the honest source; "path" would name a
// file in a pod that no longer exists. Defaults stay where the compiler put
// them: the plugin reads default and valueFrom.default to fill what the
// driver left unset.
func pluginOutputs(raw any, flags map[string]string) (map[string]any, error) {
	outputs, err := object(raw, "outputs")
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	var params []any
	paths := map[string]string{}
	for _, field := range sortedKeys(outputs) {
		v := outputs[field]
		if field != "parameters" {
			return nil, fmt.Errorf("outputs.%s: the plugin replies only with parameters", field)
		}
		if params, err = pluginParameters(v, paths); err != nil {
			return nil, err
		}
		out[field] = params
	}
	if err := checkPathFlags(flags, paths); err != nil {
		return nil, err
	}
	return out, nil
}

// pluginParameters rewrites each declared parameter and records its file path.
func pluginParameters(raw any, paths map[string]string) ([]any, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("outputs.parameters: want a list")
	}
	out := make([]any, len(list))
	for i, p := range list {
		param, err := object(p, fmt.Sprintf("outputs.parameters[%d]", i))
		if err != nil {
			return nil, err
		}
		name, _ := param["name"].(string)
		if out[i], err = pluginParameter(param, paths); err != nil {
			return nil, fmt.Errorf("output parameter %q: %w", name, err)
		}
	}
	return out, nil
}

func pluginParameter(p map[string]any, paths map[string]string) (map[string]any, error) {
	name, _ := p["name"].(string)
	if !slices.Contains(replyOutputs, name) {
		return nil, fmt.Errorf("the plugin replies only with %s", strings.Join(replyOutputs, ", "))
	}
	if _, ok := p["value"]; ok {
		return nil, fmt.Errorf("value: a fixed output has no plugin equivalent")
	}
	vf, err := object(p["valueFrom"], "valueFrom")
	if err != nil {
		return nil, err
	}
	src := map[string]any{"supplied": map[string]any{}}
	for _, field := range sortedKeys(vf) {
		v := vf[field]
		switch field {
		case "path":
			paths[name], _ = v.(string)
		case "default", "supplied":
			src[field] = v
		default:
			return nil, fmt.Errorf("valueFrom.%s has no plugin equivalent", field)
		}
	}
	out := make(map[string]any, len(p))
	for field, v := range p {
		out[field] = v
	}
	out["valueFrom"] = src
	return out, nil
}

var outputPathRef = regexp.MustCompile(`^\{\{\s*outputs\.parameters\.([^.}\s]+)\.path\s*\}\}$`)

// checkPathFlags makes sure each output file the driver was told to write is
// the parameter the plugin fills under the same name; otherwise a downstream
// task would read a different parameter than before.
func checkPathFlags(flags map[string]string, paths map[string]string) error {
	for _, flag := range sortedKeys(cmdline.PathOutputs) {
		want := cmdline.PathOutputs[flag]
		value, ok := flags[flag]
		if !ok {
			continue
		}
		declared, isDeclared := paths[want]
		m := outputPathRef.FindStringSubmatch(value)
		switch {
		case m != nil && m[1] == want && isDeclared, isDeclared && declared != "" && value == declared:
		default:
			return fmt.Errorf("driver flag %q writes %q, but the plugin fills output parameter %q (declared with valueFrom.path)", "--"+flag, value, want)
		}
	}
	return nil
}

// object reads an optional JSON object.
func object(raw any, what string) (map[string]any, error) {
	if raw == nil {
		return map[string]any{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an object", what)
	}
	return m, nil
}

// sortedKeys makes the first error reported the same on every run.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
