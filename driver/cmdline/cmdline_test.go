package cmdline_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cmdline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want map[string]string
		err  string
	}{
		{argv: []string{"--type", "DAG", "-run_id={{workflow.uid}}", "--task_name="},
			want: map[string]string{"type": "DAG", "run_id": "{{workflow.uid}}", "task_name": ""}},
		// Go's flag package takes the next token as the value, dashes or not.
		{argv: []string{"--run_display_name", "--odd"}, want: map[string]string{"run_display_name": "--odd"}},
		{argv: []string{"--cache_disabled"}, want: map[string]string{"cache_disabled": "true"}},
		{argv: []string{"--cache_disabled=false", "--metadata_tls_enabled={{inputs.parameters.tls}}"},
			want: map[string]string{"cache_disabled": "false", "metadata_tls_enabled": "{{inputs.parameters.tls}}"}},
		{argv: []string{"--foo", "x"}, err: `unknown driver flag "--foo"`},
		{argv: []string{"--v=2"}, err: `unknown driver flag "--v"`}, // glog's flags mean nothing to the plugin
		{argv: []string{"--type", "DAG", "--type", "CONTAINER"}, err: `driver flag "--type" given twice`},
		{argv: []string{"--type"}, err: `driver flag "--type" needs a value`},
		// Go stops at a positional argument and ignores the rest; so does nothing here.
		{argv: []string{"--type", "DAG", "stray", "--run_id", "x"}, err: `unexpected driver argument "stray"`},
		{argv: []string{"--type", "DAG", "--", "--run_id", "x"}, err: `unexpected driver argument "--"`},
		{argv: []string{"---type", "DAG"}, err: `bad driver flag syntax "---type"`},
		{argv: []string{"--=x"}, err: `bad driver flag syntax "--=x"`},
		// Without =, a boolean takes no value: "false" would be positional.
		{argv: []string{"--cache_disabled", "false"}, err: `unexpected driver argument "false"`},
		{argv: []string{"--cache_disabled=nope"}, err: `driver flag "--cache_disabled": "nope" is not a boolean`},
	} {
		got, err := cmdline.Parse(tc.argv)
		switch {
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.argv, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.argv, err)
		case tc.err == "" && !reflect.DeepEqual(got, tc.want):
			t.Errorf("%q: got %v, want %v", tc.argv, got, tc.want)
		}
	}
}

// TestDriverFlagsKnownToPlugin: every flag the converter accepts is an
// argument plugin.DecodeArgs knows, so none is logged and ignored at run
// time; each line's flags (common ones included) decode as that line.
func TestDriverFlagsKnownToPlugin(t *testing.T) {
	for line, set := range map[driver.Line]map[string]string{
		driver.LineMLMD:   {"type": "ROOT_DAG", "pipeline_name": "p", "run_id": "r", "component": "{}", "runtime_config": "{}"},
		driver.LineNative: {"type": "ROOT_DAG", "pipeline_name": "p", "run_id": "r", "runtime_config": "{}", "namespace": "$(NAMESPACE)"},
	} {
		args := map[string]json.RawMessage{}
		for name := range cmdline.Flags {
			if l, only := cmdline.LineFlags[name]; !only || l == line {
				args[name] = json.RawMessage(`""`)
			}
		}
		for name, v := range set {
			args[name], _ = json.Marshal(v)
		}
		req, unknown, err := plugin.DecodeArgs(args)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if len(unknown) > 0 {
			t.Errorf("plugin does not know %v", unknown)
		}
		if req.Line != line {
			t.Errorf("decoded as line %q, want %q", req.Line, line)
		}
	}
}

// TestLine covers the line rule of the package doc.
func TestLine(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  driver.Line
		err   string
	}{
		{flags: []string{"type", "component", "dag_execution_id"}, want: driver.LineMLMD},
		{flags: []string{"type", "run_id"}, want: driver.LineMLMD}, // nothing native: as before the native line
		{flags: []string{"type", "parent_task_id", "task_name"}, want: driver.LineNative},
		{flags: []string{"type", "namespace", "runtime_config"}, want: driver.LineNative},
		{flags: []string{"type", "parent_task_id_path"}, want: driver.LineNative},
		{flags: []string{"type", "parent_task_id", "dag_execution_id", "task", "namespace"},
			err: "--dag_execution_id, --task (KFP 2.x's ML Metadata driver) and --namespace, --parent_task_id (KFP master's native driver) in one call"},
	} {
		m := map[string]bool{}
		for _, f := range tc.flags {
			m[f] = true
		}
		got, err := cmdline.Line(m)
		switch {
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want %q", tc.flags, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%v: got %q, %v; want %q", tc.flags, got, err, tc.want)
		}
	}
	for name := range cmdline.LineFlags {
		if _, ok := cmdline.Flags[name]; !ok {
			t.Errorf("line flag %q is not a driver flag", name)
		}
	}
}
