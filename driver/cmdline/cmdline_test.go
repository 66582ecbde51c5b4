package cmdline

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

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
		got, err := Parse(tc.argv)
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
// argument plugin.DecodeArgs knows, so none is logged and ignored at run time.
func TestDriverFlagsKnownToPlugin(t *testing.T) {
	args := map[string]json.RawMessage{}
	for name := range Flags {
		args[name] = json.RawMessage(`""`)
	}
	for name, v := range map[string]string{
		"type": "ROOT_DAG", "pipeline_name": "p", "run_id": "r", "component": "{}", "runtime_config": "{}",
	} {
		args[name], _ = json.Marshal(v)
	}
	_, unknown, err := plugin.DecodeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) > 0 {
		t.Errorf("plugin does not know %v", unknown)
	}
}
