// Package cmdline reads the command line of KFP's driver binary. Its flags
// are the plugin's argument names: `convert` turns them into plugin
// arguments, and `drive` (the one-shot mode) runs them as KFP's driver does.
//
// Two KFP lines compile driver calls, and Line tells them apart by flag
// names alone (values may still be Argo placeholders). KFP 2.x's driver
// records in ML Metadata and gets its specs on the command line; KFP
// master's (the native line, 3.0) records through the API server and reads
// the specs from the run's stored pipeline spec. A call is native when it
// has any flag only the native driver defines (parent_task_id, namespace,
// parent_task_id_path) and none only the MLMD driver defines (component,
// task, container, dag_execution_id, pipeline_job_create_time_utc,
// pipeline_job_schedule_time_epoch_seconds, execution_id_path,
// mlmd_server_address/_port, metadata_tls_enabled); it is MLMD when it has
// no native flag; both is an error. In the compiled corpora every native
// driver template, the ROOT_DAG call's included (parent_task_id empty),
// carries parent_task_id, all but a stale one also namespace, and no MLMD
// template carries either; the stale native ray_job workflow carries
// component/task/container next to parent_task_id and is refused.
package cmdline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
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
	// KFP master's native driver.
	"parent_task_id": Value, "namespace": Value, "parent_task_id_path": Path,
}

// LineFlags are the flags only one line's driver defines; the rest are
// common to both.
var LineFlags = map[string]driver.Line{
	"component": driver.LineMLMD, "task": driver.LineMLMD, "container": driver.LineMLMD,
	"dag_execution_id": driver.LineMLMD, "pipeline_job_create_time_utc": driver.LineMLMD,
	"pipeline_job_schedule_time_epoch_seconds": driver.LineMLMD, "execution_id_path": driver.LineMLMD,
	"mlmd_server_address": driver.LineMLMD, "mlmd_server_port": driver.LineMLMD,
	"metadata_tls_enabled": driver.LineMLMD,

	"parent_task_id": driver.LineNative, "namespace": driver.LineNative, "parent_task_id_path": driver.LineNative,
}

// MixedLineError is a call with flags of both lines: no driver defines
// them all, so one set would be ignored or refused at run time.
type MixedLineError struct {
	MLMD, Native []string // sorted flag names
}

func (e *MixedLineError) Error() string {
	return fmt.Sprintf("%s (KFP 2.x's ML Metadata driver) and %s (KFP master's native driver) in one call: "+
		"no driver takes both; recompile the pipeline with one KFP version", dashed(e.MLMD), dashed(e.Native))
}

func dashed(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return strings.Join(out, ", ")
}

// Line tells which KFP line compiled a call from its flag (or plugin
// argument) names, by the rule in the package doc.
func Line[V any](flags map[string]V) (driver.Line, error) {
	var mlmd, native []string
	for name := range flags {
		line, only := LineFlags[name]
		switch {
		case !only:
		case line == driver.LineNative:
			native = append(native, name)
		default:
			mlmd = append(mlmd, name)
		}
	}
	switch {
	case len(native) == 0:
		return driver.LineMLMD, nil
	case len(mlmd) == 0:
		return driver.LineNative, nil
	}
	slices.Sort(mlmd)
	slices.Sort(native)
	return "", &MixedLineError{MLMD: mlmd, Native: native}
}

// PathOutputs maps each output-path flag to the Argo output parameter the
// file becomes (the plugin fills the parameter instead).
var PathOutputs = map[string]string{
	"execution_id_path":    "execution-id",
	"parent_task_id_path":  "parent-dag-task-id-path",
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
