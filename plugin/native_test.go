package plugin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// nativeArgs are a CONTAINER call as KFP master compiles it (after Argo's
// substitution): no specs, the parent's task ID, the namespace as the
// unexpanded env reference.
func nativeArgs() map[string]any {
	return map[string]any{
		"type": "CONTAINER", "pipeline_name": "add-numbers", "run_id": "5f6a-uid", "run_name": "add-numbers-x7k2",
		"run_display_name": "", "parent_task_id": "task-0a1b", "task_name": "add", "iteration_index": "-1",
		"kubernetes_config": "", "namespace": "$(NAMESPACE)",
		"ml_pipeline_server_address": "ml-pipeline.kubeflow.svc.cluster.local", "ml_pipeline_server_port": "8887",
		"cache_disabled": "false", "log_level": "1", "publish_logs": "true", "ml_pipeline_tls_enabled": "false",
		"ca_cert_path": "", "http_proxy": "", "https_proxy": "", "no_proxy": "",
	}
}

func nativeRoot() map[string]any {
	a := nativeArgs()
	a["type"], a["parent_task_id"], a["task_name"], a["runtime_config"] = "ROOT_DAG", "", "", `{"parameterValues":{"a":1}}`
	delete(a, "kubernetes_config")
	return a
}

func rawArgs(t *testing.T, args map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range args {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func TestDecodeNativeLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args map[string]any
		err  string // "" = decodes as native
	}{
		{name: "container", args: nativeArgs()},
		{name: "dag", args: with(nativeArgs(), "type", "DAG")},
		{name: "root", args: nativeRoot()},
		{name: "root without parent_task_id", args: with(nativeRoot(), "parent_task_id", nil)},
		{name: "root with only namespace", args: with(with(nativeRoot(), "parent_task_id", nil), "namespace", "team-a")},
		{name: "concrete namespace", args: with(nativeArgs(), "namespace", "team-a")},
		{name: "no namespace", args: with(nativeArgs(), "namespace", nil)},
		{name: "missing parent_task_id", args: with(nativeArgs(), "parent_task_id", nil), err: `argument "parent_task_id": is required for CONTAINER (native line)`},
		{name: "empty parent_task_id", args: with(nativeArgs(), "parent_task_id", ""), err: `argument "parent_task_id": must not be empty for CONTAINER`},
		{name: "missing task_name", args: with(with(nativeArgs(), "type", "DAG"), "task_name", nil), err: `argument "task_name": is required for DAG (native line)`},
		{name: "empty task_name", args: with(nativeArgs(), "task_name", ""), err: `argument "task_name": must not be empty for CONTAINER`},
		{name: "root missing runtime_config", args: with(nativeRoot(), "runtime_config", nil), err: `argument "runtime_config": is required for ROOT_DAG (native line)`},
		{name: "root with parent", args: with(nativeRoot(), "parent_task_id", "task-0a1b"), err: `argument "parent_task_id": must be empty for ROOT_DAG`},
		{name: "dag with runtime_config", args: with(with(nativeArgs(), "type", "DAG"), "runtime_config", "{}"), err: `argument "runtime_config": must be empty for DAG`},
		{name: "mixed dag_execution_id", args: with(nativeArgs(), "dag_execution_id", "5"),
			err: "--dag_execution_id (KFP 2.x's ML Metadata driver) and --namespace, --parent_task_id (KFP master's native driver) in one call"},
		{name: "mixed root component", args: with(nativeRoot(), "component", "{}"), err: "--component (KFP 2.x's ML Metadata driver) and --namespace, --parent_task_id (KFP master's native driver)"},
		{name: "mixed mlmd call with namespace", args: with(validArgs(), "namespace", "$(NAMESPACE)"), err: "and --namespace (KFP master's native driver) in one call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, unknown, err := DecodeArgs(rawArgs(t, tc.args))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(unknown) > 0 {
				t.Errorf("unknown %v", unknown)
			}
			want, _ := tc.args["parent_task_id"].(string)
			if req.Line != driver.LineNative || req.ParentTaskID != want {
				t.Errorf("line %q parent %q, want native %q", req.Line, req.ParentTaskID, want)
			}
			if req.Component != nil || req.Task != nil || req.Container != nil {
				t.Errorf("specs decoded on the native line: %v %v %v", req.Component, req.Task, req.Container)
			}
		})
	}
	// The MLMD line decodes as it always has.
	req, _, err := DecodeArgs(rawArgs(t, validArgs()))
	if err != nil || req.Line != driver.LineMLMD || req.ParentTaskID != "" || req.Namespace != "" {
		t.Fatalf("MLMD call: %+v, %v", req, err)
	}
}

// TestBindNamespace: the workflow's namespace is authoritative; $(NAMESPACE)
// (which no plugin template expands) and an absent argument take it.
func TestBindNamespace(t *testing.T) {
	for _, tc := range []struct {
		arg any
		err string
	}{
		{arg: "$(NAMESPACE)"},
		{arg: nil},
		{arg: ""},
		{arg: "team-a"},
		{arg: "team-b", err: `argument "namespace": is "team-b" but the workflow runs in "team-a"`},
		{arg: "$(POD_NAMESPACE)", err: `argument "namespace": is "$(POD_NAMESPACE)"`},
	} {
		req, _, err := DecodeArgs(rawArgs(t, with(nativeArgs(), "namespace", tc.arg)))
		if err != nil {
			t.Fatal(err)
		}
		err = BindNamespace(req, "team-a")
		switch {
		case tc.err == "" && (err != nil || req.Namespace != "team-a"):
			t.Errorf("%v: namespace %q, %v", tc.arg, req.Namespace, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want %q", tc.arg, err, tc.err)
		}
	}
}

// TestNativeCallThroughHandler: a native call reaches the driver with its
// line, parent and the workflow's namespace; a DAG result's task ID is
// replied as parent-dag-task-id-path, and a namespace argument naming
// another namespace fails the node without running the driver.
func TestNativeCallThroughHandler(t *testing.T) {
	d := &countingDriver{result: &driver.Result{TaskID: "task-9", Message: "dag"}}
	s := newTestServer(t, d)
	b, _ := json.Marshal(map[string]any{
		"workflow": map[string]any{"metadata": map[string]any{"name": "wf", "namespace": "team-a", "uid": "u1"}},
		"template": map[string]any{
			"name":   "system-dag-driver",
			"plugin": map[string]any{PluginName: map[string]any{"args": with(nativeArgs(), "type", "DAG")}},
			"outputs": map[string]any{"parameters": []any{
				map[string]any{"name": "parent-dag-task-id-path", "valueFrom": map[string]any{"supplied": map[string]any{}}},
				map[string]any{"name": "iteration-count", "valueFrom": map[string]any{"default": "0", "supplied": map[string]any{}}},
				map[string]any{"name": "condition", "valueFrom": map[string]any{"default": "true", "supplied": map[string]any{}}},
			}},
		},
	})
	_, reply, raw := post(t, s, testToken, b)
	if reply.Node == nil || reply.Node.Phase != PhaseSucceeded {
		t.Fatalf("reply %s", raw)
	}
	got := map[string]string{}
	for _, p := range reply.Node.Outputs.Parameters {
		got[p.Name] = p.Value
	}
	if got["parent-dag-task-id-path"] != "task-9" || got["iteration-count"] != "0" || got["condition"] != "nil" || len(got) != 3 {
		t.Errorf("outputs %v", got)
	}
	req := d.last.Load()
	if req.Line != driver.LineNative || req.ParentTaskID != "task-0a1b" || req.Namespace != "team-a" {
		t.Errorf("request line %q parent %q namespace %q", req.Line, req.ParentTaskID, req.Namespace)
	}

	_, reply, raw = post(t, s, testToken, driverPluginBody(with(nativeArgs(), "namespace", "team-b")))
	if reply.Node == nil || reply.Node.Phase != PhaseFailed || !strings.Contains(reply.Node.Message, `argument "namespace"`) {
		t.Fatalf("reply %s", raw)
	}
	if d.calls.Load() != 1 {
		t.Errorf("driver ran %d times, want 1", d.calls.Load())
	}
}

// TestOutputsRendering: the task ID is rendered only when set, so MLMD
// results render exactly as before.
func TestOutputsRendering(t *testing.T) {
	mlmd := (&driver.Result{ExecutionID: 7}).Outputs(driver.DAG)
	if len(mlmd) != 3 || mlmd["execution-id"] != "7" || mlmd["iteration-count"] != "0" || mlmd["condition"] != "nil" {
		t.Errorf("MLMD outputs %v", mlmd)
	}
	native := (&driver.Result{TaskID: "t-1"}).Outputs(driver.RootDAG)
	if len(native) != 3 || native["parent-dag-task-id-path"] != "t-1" {
		t.Errorf("native outputs %v", native)
	}
}
