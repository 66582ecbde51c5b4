// Package cmdline reads the command line of KFP's driver binary. Its flags
// are the plugin's argument names: `convert` turns them into plugin
// arguments, and `drive` (the one-shot mode) runs them as KFP's driver does.
package cmdline

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is how a flag takes its value.
type Kind int

// The kinds of driver flags.
const (
	Value Kind = iota // --name value or --name=value
	Bool              // --name or --name=bool (Go's flag package: no separate value)
	Path              // an output file of the driver pod; the plugin replies instead
)

// Flags are the flags of KFP's driver binary (driver-spec §1.2). Their
// names are the plugin's argument names; plugin.DecodeArgs knows them all.
var Flags = map[string]Kind{
	"type": Value, "pipeline_name": Value, "run_id": Value, "run_name": Value,
	"run_display_name": Value, "pipeline_job_create_time_utc": Value,
	"pipeline_job_schedule_time_epoch_seconds": Value,
	"component": Value, "task": Value, "task_name": Value, "container": Value,
	"runtime_config": Value, "kubernetes_config": Value,
	"dag_execution_id": Value, "iteration_index": Value,
	"mlmd_server_address": Value, "mlmd_server_port": Value,
	"ml_pipeline_server_address": Value, "ml_pipeline_server_port": Value,
	"ca_cert_path": Value, "log_level": Value, "publish_logs": Value,
	"http_proxy": Value, "https_proxy": Value, "no_proxy": Value,
	"default_run_as_user": Value, "default_run_as_group": Value,
	// Strings parsed as booleans by the driver, so they take a separate value.
	"default_run_as_non_root": Value, "default_host_users": Value,
	"cache_disabled": Bool, "ml_pipeline_tls_enabled": Bool, "metadata_tls_enabled": Bool,
	"execution_id_path": Path, "iteration_count_path": Path, "condition_path": Path,
	"cached_decision_path": Path, "pod_spec_patch_path": Path,
}

// PathOutputs maps each output-path flag to the Argo output parameter the
// file becomes (the plugin fills the parameter instead).
var PathOutputs = map[string]string{
	"execution_id_path":    "execution-id",
	"iteration_count_path": "iteration-count",
	"condition_path":       "condition",
	"cached_decision_path": "cached-decision",
	"pod_spec_patch_path":  "pod-spec-patch",
}

// Parse reads a driver command line the way Go's flag package does
// (-name or --name, value attached with = or in the next token, booleans only
// with =), but refuses what the driver would silently ignore: unknown flags,
// repeated flags and positional arguments (Go stops parsing at the first).
func Parse(argv []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(argv); i++ {
		name, value, hasValue, err := splitFlag(argv[i])
		if err != nil {
			return nil, err
		}
		kind, known := Flags[name]
		switch {
		case !known:
			return nil, fmt.Errorf("unknown driver flag %q", "--"+name)
		case kind == Bool:
			if value, err = boolValue(name, value, hasValue); err != nil {
				return nil, err
			}
		case !hasValue:
			if i+1 == len(argv) {
				return nil, fmt.Errorf("driver flag %q needs a value", "--"+name)
			}
			i++
			value = argv[i]
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("driver flag %q given twice", "--"+name)
		}
		out[name] = value
	}
	return out, nil
}

// splitFlag takes "--name=value", "-name" etc. apart.
func splitFlag(arg string) (name, value string, hasValue bool, err error) {
	s := strings.TrimPrefix(arg, "-")
	if s == arg || s == "" || s == "-" {
		return "", "", false, fmt.Errorf("unexpected driver argument %q (want --flag value)", arg)
	}
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] == '-' || s[0] == '=' {
		return "", "", false, fmt.Errorf("bad driver flag syntax %q", arg)
	}
	name, value, hasValue = strings.Cut(s, "=")
	return name, value, hasValue, nil
}

// boolValue keeps the flag's text ("--x" means "true"). A literal that Go's
// flag package would reject is an error now rather than a failed step later;
// {{...}} placeholders are left for Argo to fill.
func boolValue(name, value string, hasValue bool) (string, error) {
	if !hasValue {
		return "true", nil
	}
	if !strings.Contains(value, "{{") {
		if _, err := strconv.ParseBool(value); err != nil {
			return "", fmt.Errorf("driver flag %q: %q is not a boolean", "--"+name, value)
		}
	}
	return value, nil
}
