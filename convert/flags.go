package convert

import (
	"fmt"
	"strconv"
	"strings"
)

type flagKind int

const (
	valueFlag flagKind = iota // --name value or --name=value
	boolFlag                  // --name or --name=bool (Go's flag package: no separate value)
	pathFlag                  // an output file of the driver pod; the plugin replies instead
)

// driverFlags are the flags of KFP's driver binary (driver-spec §1.2). Their
// names are the plugin's argument names; plugin.DecodeArgs knows them all.
var driverFlags = map[string]flagKind{
	"type": valueFlag, "pipeline_name": valueFlag, "run_id": valueFlag, "run_name": valueFlag,
	"run_display_name": valueFlag, "pipeline_job_create_time_utc": valueFlag,
	"pipeline_job_schedule_time_epoch_seconds": valueFlag,
	"component": valueFlag, "task": valueFlag, "task_name": valueFlag, "container": valueFlag,
	"runtime_config": valueFlag, "kubernetes_config": valueFlag,
	"dag_execution_id": valueFlag, "iteration_index": valueFlag,
	"mlmd_server_address": valueFlag, "mlmd_server_port": valueFlag,
	"ml_pipeline_server_address": valueFlag, "ml_pipeline_server_port": valueFlag,
	"ca_cert_path": valueFlag, "log_level": valueFlag, "publish_logs": valueFlag,
	"http_proxy": valueFlag, "https_proxy": valueFlag, "no_proxy": valueFlag,
	"default_run_as_user": valueFlag, "default_run_as_group": valueFlag,
	// Strings parsed as booleans by the driver, so they take a separate value.
	"default_run_as_non_root": valueFlag, "default_host_users": valueFlag,
	"cache_disabled": boolFlag, "ml_pipeline_tls_enabled": boolFlag, "metadata_tls_enabled": boolFlag,
	"execution_id_path": pathFlag, "iteration_count_path": pathFlag, "condition_path": pathFlag,
	"cached_decision_path": pathFlag, "pod_spec_patch_path": pathFlag,
}

// pathOutputs maps each output-path flag to the output parameter the plugin
// fills instead of the file.
var pathOutputs = map[string]string{
	"execution_id_path":    "execution-id",
	"iteration_count_path": "iteration-count",
	"condition_path":       "condition",
	"cached_decision_path": "cached-decision",
	"pod_spec_patch_path":  "pod-spec-patch",
}

// parseFlags reads a driver command line the way Go's flag package does
// (-name or --name, value attached with = or in the next token, booleans only
// with =), but refuses what the driver would silently ignore: unknown flags,
// repeated flags and positional arguments (Go stops parsing at the first).
func parseFlags(argv []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(argv); i++ {
		name, value, hasValue, err := splitFlag(argv[i])
		if err != nil {
			return nil, err
		}
		kind, known := driverFlags[name]
		switch {
		case !known:
			return nil, fmt.Errorf("unknown driver flag %q", "--"+name)
		case kind == boolFlag:
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
