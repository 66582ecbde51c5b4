// Package plugintest drives a plugin server the way Argo's agent does, so
// driver tests can run through the real HTTP handler instead of calling the
// driver directly.
package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

// HTTPDriver is a driver.Driver that encodes each request as driver-plugin
// template arguments, posts it to Handler with a bearer token and decodes the
// node result, following Running + requeue replies until the call settles.
type HTTPDriver struct {
	Handler http.Handler
	Token   string
	// Timeout bounds how long a call may stay Running (default 30 s).
	Timeout time.Duration
}

// Run implements driver.Driver.
func (d *HTTPDriver) Run(ctx context.Context, req *driver.Request) (*driver.Result, error) {
	body, err := Body(req)
	if err != nil {
		return nil, err
	}
	timeout := d.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		reply, err := d.post(ctx, body)
		if err != nil {
			return nil, err
		}
		switch reply.Node.Phase {
		case plugin.PhaseSucceeded:
			return decode(reply.Node)
		case plugin.PhaseFailed:
			return nil, errors.New(reply.Node.Message)
		}
		if reply.Requeue == nil {
			return nil, fmt.Errorf("running reply without requeue: %q", reply.Node.Message)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("still running after %s: %q", timeout, reply.Node.Message)
		}
		select { // a test need not wait the full requeue
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (d *HTTPDriver) post(ctx context.Context, body []byte) (*plugin.ExecuteReply, error) {
	r := httptest.NewRequest(http.MethodPost, plugin.ExecutePath, bytes.NewReader(body)).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+d.Token)
	rec := httptest.NewRecorder()
	d.Handler.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("plugin answered %d: %s", rec.Code, rec.Body)
	}
	var reply plugin.ExecuteReply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		return nil, fmt.Errorf("reply: %v: %s", err, rec.Body)
	}
	if reply.Node == nil {
		return nil, fmt.Errorf("the plugin declined the template: %s", rec.Body)
	}
	return &reply, nil
}

// decode reads the output parameters back into a Result. Only what the
// compiled templates declare travels, as with real Argo.
func decode(node *plugin.NodeResult) (*driver.Result, error) {
	res := &driver.Result{Message: node.Message}
	if node.Outputs == nil {
		return res, nil
	}
	for _, p := range node.Outputs.Parameters {
		var err error
		switch p.Name {
		case driver.OutputExecutionID:
			res.ExecutionID, err = strconv.ParseInt(p.Value, 10, 64)
		case driver.OutputIterationCount:
			var n int
			n, err = strconv.Atoi(p.Value)
			res.IterationCount = &n
		case driver.OutputCondition:
			res.Condition, err = optBool(p.Value)
		case driver.OutputCachedDecision:
			res.CachedDecision, err = optBool(p.Value)
		case driver.OutputPodSpecPatch:
			res.PodSpecPatch = p.Value
		}
		if err != nil {
			return nil, fmt.Errorf("output %s=%q: %v", p.Name, p.Value, err)
		}
	}
	return res, nil
}

func optBool(s string) (*bool, error) {
	if s == "nil" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	return &b, err
}

// Body is the JSON Argo's agent posts for req: workflow metadata and the
// template KFP compiles for the driver type, with outputs declared as there.
func Body(req *driver.Request) ([]byte, error) {
	args, err := Args(req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"workflow": map[string]any{"metadata": map[string]any{
			"name": req.WorkflowName, "namespace": req.Namespace, "uid": req.WorkflowUID,
		}},
		"template": map[string]any{
			"name":    templateName(req.Type),
			"plugin":  map[string]any{plugin.PluginName: map[string]any{"args": args}},
			"outputs": map[string]any{"parameters": declaredOutputs(req.Type)},
		},
	})
}

func templateName(t driver.Type) string {
	if t == driver.Container {
		return "system-container-driver"
	}
	return "system-dag-driver"
}

// declaredOutputs mirror KFP's compiled driver templates.
func declaredOutputs(t driver.Type) []map[string]any {
	out := func(name string, def *string) map[string]any {
		p := map[string]any{"name": name}
		if def != nil {
			p["valueFrom"] = map[string]any{"default": *def}
		}
		return p
	}
	s := func(v string) *string { return &v }
	if t == driver.Container {
		return []map[string]any{out("pod-spec-patch", s("")), out("cached-decision", s("false")), out("condition", s("true"))}
	}
	return []map[string]any{out("execution-id", nil), out("iteration-count", s("0")), out("condition", s("true"))}
}

// Args encodes req as the driver-plugin arguments KFP's compiler emits
// (the driver's flag names; JSON documents as strings).
func Args(req *driver.Request) (map[string]any, error) {
	o := req.Options
	args := map[string]any{
		"type": string(req.Type), "pipeline_name": req.PipelineName, "run_id": req.RunID,
		"run_name": req.RunName, "run_display_name": req.RunDisplayName,
		"pipeline_job_create_time_utc": req.PipelineJobCreateTime, "task_name": req.TaskName,
		"dag_execution_id":    strconv.FormatInt(req.DAGExecutionID, 10),
		"iteration_index":     strconv.Itoa(req.IterationIndex),
		"mlmd_server_address": o.MLMDAddress, "mlmd_server_port": o.MLMDPort,
		"ml_pipeline_server_address": o.MLPipelineAddress, "ml_pipeline_server_port": o.MLPipelinePort,
		"ml_pipeline_tls_enabled": o.MLPipelineTLS, "metadata_tls_enabled": o.MetadataTLS,
		"ca_cert_path": o.CACertPath, "cache_disabled": o.CacheDisabled,
		"log_level": o.LogLevel, "publish_logs": o.PublishLogs,
		"http_proxy": o.HTTPProxy, "https_proxy": o.HTTPSProxy, "no_proxy": o.NoProxy,
	}
	if req.ScheduleTimeEpochSecs != "" {
		args["pipeline_job_schedule_time_epoch_seconds"] = req.ScheduleTimeEpochSecs
	}
	docs := map[string]proto.Message{"component": req.Component, "task": req.Task, "container": req.Container, "runtime_config": req.RuntimeConfig}
	for name, m := range docs {
		s, err := protoText(m)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", name, err)
		}
		args[name] = s
	}
	switch {
	case len(req.KubernetesConfigJSON) > 0:
		args["kubernetes_config"] = string(req.KubernetesConfigJSON)
	case req.KubernetesConfig != nil:
		s, err := protoText(req.KubernetesConfig)
		if err != nil {
			return nil, fmt.Errorf("encoding kubernetes_config: %w", err)
		}
		args["kubernetes_config"] = s
	default:
		args["kubernetes_config"] = ""
	}
	return args, nil
}

// protoText renders m as protobuf JSON; a nil message is "" as KFP passes it.
func protoText(m proto.Message) (string, error) {
	if m == nil || !m.ProtoReflect().IsValid() {
		return "", nil
	}
	b, err := protojson.Marshal(m)
	return string(b), err
}
