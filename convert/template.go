package convert

import (
	"fmt"
	"path"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cmdline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

type fieldRule int

const (
	keep fieldRule = iota + 1 // means the same on a plugin node
	drop                      // configures the driver's pod, which no longer exists
)

// templateFields says what happens to each field of a driver template. A
// field not listed (another template type, a field of a newer Argo) is an
// error: guessing could change what the step does.
var templateFields = map[string]fieldRule{
	"name": keep, "inputs": keep, "metadata": keep, "annotations": keep,
	"activeDeadlineSeconds": keep, "timeout": keep, "retryStrategy": keep,
	"metrics": keep, "synchronization": keep, "memoize": keep,
	"container": drop, "securityContext": drop, "podSpecPatch": drop,
	"nodeSelector": drop, "affinity": drop, "tolerations": drop,
	"volumes": drop, "initContainers": drop, "sidecars": drop,
	"schedulerName": drop, "priorityClassName": drop, "serviceAccountName": drop,
	"automountServiceAccountToken": drop, "executor": drop, "hostAliases": drop,
	"archiveLocation": drop, "daemon": drop,
	// "outputs" is rewritten, see pluginOutputs.
}

// driverCommand reports whether a template runs KFP's driver binary, and its
// command line after the binary.
func driverCommand(t map[string]any) ([]string, bool, error) {
	c, ok := t["container"].(map[string]any)
	if !ok {
		return nil, false, nil
	}
	command, err := stringList(c, "command")
	if err != nil || len(command) == 0 || path.Base(command[0]) != "driver" {
		return nil, false, err
	}
	args, err := stringList(c, "args")
	if err != nil {
		return nil, false, err
	}
	return append(command[1:len(command):len(command)], args...), true, nil
}

// pluginTemplate rewrites a driver container template into the plugin
// template carrying the same flags as arguments.
func pluginTemplate(t map[string]any, flags map[string]string) (map[string]any, error) {
	outputs, err := pluginOutputs(t["outputs"], flags)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"outputs": outputs}
	for _, field := range sortedKeys(t) {
		v := t[field]
		switch templateFields[field] {
		case keep:
			out[field] = v
		case drop:
		default:
			if field != "outputs" {
				return nil, fmt.Errorf("field %q has no plugin equivalent", field)
			}
		}
	}
	args := map[string]any{}
	for name, value := range flags {
		if cmdline.Flags[name] != cmdline.Path {
			args[name] = value
		}
	}
	out["plugin"] = map[string]any{plugin.PluginName: map[string]any{"args": args}}
	return out, nil
}

func stringList(m map[string]any, key string) ([]string, error) {
	raw, ok := m[key]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("container.%s: want a list of strings", key)
	}
	out := make([]string, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("container.%s[%d]: want a string, got %v", key, i, v)
		}
		out[i] = s
	}
	return out, nil
}
