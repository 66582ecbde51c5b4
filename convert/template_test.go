package convert

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func readCorpusFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/compiled-workflows/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dagDriver is a trimmed system-dag-driver; tests splice in variations.
const dagDriver = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: x-}
spec:
  entrypoint: system-dag-driver
  templates:
  - name: system-dag-driver
    container:
      image: ghcr.io/kubeflow/kfp-driver:latest
      command: [driver]
      args: [--type, DAG, --execution_id_path, '{{outputs.parameters.execution-id.path}}'EXTRA_ARGS]
    inputs: {parameters: [{name: component, default: '{}'}]}
    EXTRA_FIELD: {}
    outputs:
      parameters:
      - name: execution-id
        valueFrom: {path: /tmp/outputs/execution-id}
`

func dagDriverWith(extraArgs, extraField string) []byte {
	s := strings.Replace(dagDriver, "EXTRA_ARGS", extraArgs, 1)
	if extraField == "" {
		s = strings.Replace(s, "    EXTRA_FIELD: {}\n", "", 1)
	}
	return []byte(strings.Replace(s, "EXTRA_FIELD", extraField, 1))
}

func TestTemplateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"field without plugin meaning", dagDriverWith("", "steps"),
			`template "system-dag-driver": field "steps" has no plugin equivalent`},
		{"path flag to another output", dagDriverWith(", --condition_path, '{{outputs.parameters.execution-id.path}}'", ""),
			`template "system-dag-driver": driver flag "--condition_path" writes "{{outputs.parameters.execution-id.path}}", but the plugin fills output parameter "condition" (declared with valueFrom.path)`},
		{"unknown output", append(dagDriverWith("", ""), "      - name: other\n        valueFrom: {path: /tmp/o}\n"...),
			`template "system-dag-driver": output parameter "other": the plugin replies only with execution-id, iteration-count, condition, cached-decision, pod-spec-patch`},
		{"output source", []byte(strings.Replace(string(dagDriverWith("", "")), "{path: /tmp/outputs/execution-id}", "{jsonPath: .x}", 1)),
			`template "system-dag-driver": output parameter "execution-id": valueFrom.jsonPath has no plugin equivalent`},
		{"output artifact", []byte(strings.Replace(string(dagDriverWith("", "")), "    outputs:\n", "    outputs:\n      artifacts: [{name: a, path: /a}]\n", 1)),
			`template "system-dag-driver": outputs.artifacts: the plugin replies only with parameters`},
		{"not a workflow", []byte("kind: WorkflowTemplate\nspec: {}\n"), `kind "WorkflowTemplate": want an Argo Workflow`},
		{"two documents", append(dagDriverWith("", ""), "---\nkind: Workflow\n"...), `read workflow: 2 YAML documents, want exactly one`},
		{"duplicate key", []byte("kind: Workflow\nkind: Workflow\n"), `parse workflow`},
	} {
		_, err := Workflow(tc.in, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestKeptAndDroppedFields: node-level settings survive, pod-level ones go.
func TestKeptAndDroppedFields(t *testing.T) {
	in := strings.Replace(string(dagDriverWith("", "")), "    inputs:", `    retryStrategy: {limit: "2"}
    nodeSelector: {disk: ssd}
    inputs:`, 1)
	out, err := Workflow([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"retryStrategy:", "limit: \"2\"", "driver-plugin:", "type: DAG", "supplied: {}"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, gone := range []string{"nodeSelector", "container:", "image:", "execution_id_path", "path:"} {
		if strings.Contains(s, gone) {
			t.Errorf("output still has %q:\n%s", gone, s)
		}
	}
	if err := argoValidate(out); err != nil {
		t.Error(err)
	}
}

// TestJSONInput: the same workflow as JSON converts to the same YAML.
func TestJSONInput(t *testing.T) {
	in := readCorpusFile(t, "hello_world.yaml")
	fromYAML, err := Workflow([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(mustDecode(t, []byte(in)))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := Workflow(doc, Options{})
	if err != nil || string(fromJSON) != string(fromYAML) {
		t.Errorf("JSON input converted differently (err %v)", err)
	}
}

// TestUnknownFlagNamesTemplate checks the whole path: the error names the
// flag and the template, and nothing is written.
func TestUnknownFlagNamesTemplate(t *testing.T) {
	in := readCorpusFile(t, "add_numbers.yaml")
	in = strings.Replace(in, "      - --cache_disabled=false\n", "      - --cache_disabled=false\n      - --foo\n      - bar\n", 2)
	out, err := Workflow([]byte(in), Options{})
	want := `template "system-container-driver": unknown driver flag "--foo"`
	if err == nil || err.Error() != want || out != nil {
		t.Errorf("got %v, want %q", err, want)
	}
}
