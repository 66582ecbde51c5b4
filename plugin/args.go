package plugin

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cmdline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/memo"
)

// ArgError says which plugin argument was wrong and why.
type ArgError struct {
	Arg string
	Err error
}

func (e *ArgError) Error() string { return fmt.Sprintf("argument %q: %v", e.Arg, e.Err) }
func (e *ArgError) Unwrap() error { return e.Err }

// knownArgs are the argument names KFP's compiler emits (the driver's flag
// names). Output-path arguments only make sense for the driver pod and are
// accepted and ignored, so a workflow compiled for either mode runs here.
var knownArgs = map[string]bool{
	"type": true, "pipeline_name": true, "run_id": true, "run_name": true, "run_display_name": true,
	"pipeline_job_create_time_utc": true, "pipeline_job_schedule_time_epoch_seconds": true,
	"component": true, "task": true, "task_name": true, "container": true, "runtime_config": true,
	"kubernetes_config": true, "dag_execution_id": true, "iteration_index": true,
	"mlmd_server_address": true, "mlmd_server_port": true,
	"ml_pipeline_server_address": true, "ml_pipeline_server_port": true,
	"ml_pipeline_tls_enabled": true, "metadata_tls_enabled": true, "ca_cert_path": true,
	"cache_disabled": true, "log_level": true, "publish_logs": true,
	"http_proxy": true, "https_proxy": true, "no_proxy": true,
	"default_run_as_user": true, "default_run_as_group": true,
	"default_run_as_non_root": true, "default_host_users": true,
	"execution_id_path": true, "iteration_count_path": true, "condition_path": true,
	"cached_decision_path": true, "pod_spec_patch_path": true,
	"parent_task_id": true, "namespace": true, "parent_task_id_path": true,
}

// requiredArgs are the arguments without which a driver type of a line
// cannot decide anything; the rest have KFP's defaults. Native calls carry
// no specs: the task is found by name under its parent task.
var requiredArgs = map[driver.Line]map[driver.Type][]string{
	driver.LineMLMD: {
		driver.RootDAG:   {"pipeline_name", "run_id", "component", "runtime_config"},
		driver.DAG:       {"pipeline_name", "run_id", "component", "task", "task_name", "dag_execution_id"},
		driver.Container: {"pipeline_name", "run_id", "component", "task", "task_name", "dag_execution_id", "container"},
	},
	driver.LineNative: {
		driver.RootDAG:   {"pipeline_name", "run_id", "runtime_config"},
		driver.DAG:       {"pipeline_name", "run_id", "task_name", "parent_task_id"},
		driver.Container: {"pipeline_name", "run_id", "task_name", "parent_task_id"},
	},
}

// NamespaceFromEnv is how KFP master's compiler passes the namespace
// argument: a reference to the driver container's NAMESPACE variable,
// which the kubelet expands and a plugin template never does.
const NamespaceFromEnv = "$(NAMESPACE)"

// Defaults KFP's driver uses when the compiler omits an endpoint.
const (
	defaultMLMDAddress       = "metadata-grpc-service"
	defaultMLMDPort          = "8080"
	defaultMLPipelineAddress = "ml-pipeline"
	defaultMLPipelinePort    = "8887"
)

// argReader decodes argument values that may arrive as JSON strings (after
// Argo substitutes {{...}}), numbers or booleans.
type argReader struct {
	raw map[string]json.RawMessage
	err error // first error; later reads are no-ops
}

func (r *argReader) fail(arg string, err error) {
	if r.err == nil {
		r.err = &ArgError{Arg: arg, Err: err}
	}
}

func (r *argReader) has(arg string) bool {
	_, ok := r.raw[arg]
	return ok
}

// str returns the argument as text; numbers and booleans keep their literal form.
func (r *argReader) str(arg string) string {
	v, ok := r.raw[arg]
	if !ok || r.err != nil {
		return ""
	}
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || bytes.Equal(v, []byte("null")):
		return ""
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			r.fail(arg, err)
		}
		return s
	case v[0] == '{' || v[0] == '[':
		r.fail(arg, errors.New("must be a string, number or boolean"))
		return ""
	default:
		return string(v)
	}
}

func (r *argReader) strOr(arg, def string) string {
	if s := r.str(arg); s != "" {
		return s
	}
	return def
}

func (r *argReader) boolean(arg string) bool {
	s := r.str(arg)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		r.fail(arg, fmt.Errorf("must be true or false, got %q", s))
	}
	return b
}

func (r *argReader) int64(arg string, def int64) int64 {
	s := r.str(arg)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.fail(arg, fmt.Errorf("must be an integer, got %q", s))
	}
	return n
}

func (r *argReader) optInt64(arg string) *int64 {
	if r.str(arg) == "" {
		return nil
	}
	n := r.int64(arg, 0)
	return &n
}

func (r *argReader) optBool(arg string) *bool {
	if r.str(arg) == "" {
		return nil
	}
	b := r.boolean(arg)
	return &b
}

// message decodes a protobuf-JSON argument into m. It reports false when the
// argument is absent or empty. The value may be a JSON string holding the
// document (what Argo substitution produces) or the document itself.
func (r *argReader) message(arg string, m proto.Message) ([]byte, bool) {
	v, ok := r.raw[arg]
	if !ok || r.err != nil {
		return nil, false
	}
	doc := bytes.TrimSpace(v)
	if len(doc) > 0 && doc[0] == '"' {
		doc = []byte(r.str(arg))
		if r.err != nil {
			return nil, false
		}
		if bytes.HasPrefix(doc, []byte("@")) {
			// The driver pod reads "@path" from its own disk; a plugin
			// serving many workflows must not read files named by a template.
			r.fail(arg, errors.New("file references (@path) are not supported by the plugin"))
			return nil, false
		}
	}
	if len(bytes.TrimSpace(doc)) == 0 || bytes.Equal(doc, []byte("null")) {
		return nil, false
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(doc, m); err != nil {
		r.fail(arg, fmt.Errorf("malformed JSON: %w", err))
		return nil, false
	}
	return doc, true
}

// DecodeArgs turns the driver-plugin arguments into a driver request. It also
// returns the argument names this version does not know, sorted, so the caller
// can log them: they are accepted for forward compatibility. The request's
// Line follows cmdline.Line. Its Namespace is the namespace argument when that
// is a concrete value, else ""; BindNamespace must then set the namespace the
// call really runs in.
func DecodeArgs(raw map[string]json.RawMessage) (*driver.Request, []string, error) {
	r := &argReader{raw: raw}
	req := &driver.Request{Type: driver.Type(r.str("type"))}
	if !r.has("type") {
		return nil, nil, &ArgError{Arg: "type", Err: errors.New("is required")}
	}
	if r.err == nil && !req.Type.Valid() {
		return nil, nil, &ArgError{Arg: "type", Err: fmt.Errorf("unknown driver type %q (want ROOT_DAG, DAG or CONTAINER)", req.Type)}
	}
	line, err := cmdline.Line(raw)
	if err != nil {
		arg := "type"
		if mixed := (*cmdline.MixedLineError)(nil); errors.As(err, &mixed) {
			arg = mixed.MLMD[0]
		}
		return nil, nil, &ArgError{Arg: arg, Err: err}
	}
	req.Line = line
	for _, name := range requiredArgs[line][req.Type] {
		if !r.has(name) {
			return nil, nil, &ArgError{Arg: name, Err: fmt.Errorf("is required for %s%s", req.Type, lineSuffix(line))}
		}
	}
	readRun(r, req)
	readSpecs(r, req)
	readOptions(r, req)
	if r.err != nil {
		return nil, nil, r.err
	}
	if err := validate(req); err != nil {
		return nil, nil, err
	}
	return req, unknownArgs(raw), nil
}

func readRun(r *argReader, req *driver.Request) {
	req.PipelineName = r.str("pipeline_name")
	req.RunID = r.str("run_id")
	req.RunName = r.str("run_name")
	req.RunDisplayName = r.str("run_display_name")
	req.PipelineJobCreateTime = r.str("pipeline_job_create_time_utc")
	req.ScheduleTimeEpochSecs = r.str("pipeline_job_schedule_time_epoch_seconds")
	req.TaskName = r.str("task_name")
	req.DAGExecutionID = r.int64("dag_execution_id", 0)
	req.IterationIndex = int(r.int64("iteration_index", -1))
	req.ParentTaskID = r.str("parent_task_id")
	if ns := r.str("namespace"); ns != NamespaceFromEnv {
		req.Namespace = ns
	}
}

// BindNamespace sets the namespace the call runs in (the workflow's, which
// the caller has checked). The request's namespace is authoritative: a
// namespace argument naming another one fails rather than being ignored.
func BindNamespace(req *driver.Request, namespace string) error {
	if req.Namespace != "" && req.Namespace != namespace {
		return &ArgError{Arg: "namespace", Err: fmt.Errorf("is %q but the workflow runs in %q (want %s or the workflow's namespace)",
			req.Namespace, namespace, NamespaceFromEnv)}
	}
	req.Namespace = namespace
	return nil
}

func lineSuffix(l driver.Line) string {
	if l == driver.LineNative {
		return " (native line)"
	}
	return ""
}

func readSpecs(r *argReader, req *driver.Request) {
	if m, _, ok := decodeSpec(r, "component", func() *pipelinespec.ComponentSpec { return &pipelinespec.ComponentSpec{} }); ok {
		req.Component = m
	}
	if m, _, ok := decodeSpec(r, "task", func() *pipelinespec.PipelineTaskSpec { return &pipelinespec.PipelineTaskSpec{} }); ok {
		req.Task = m
	}
	if m, _, ok := decodeSpec(r, "container", func() *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec {
		return &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{}
	}); ok {
		req.Container = m
	}
	rc := &pipelinespec.PipelineJob_RuntimeConfig{}
	if _, ok := r.message("runtime_config", rc); ok {
		req.RuntimeConfig = rc
	}
	if m, raw, ok := decodeSpec(r, "kubernetes_config", func() *kubernetesplatform.KubernetesExecutorConfig {
		return &kubernetesplatform.KubernetesExecutorConfig{}
	}); ok {
		req.KubernetesConfig = m
		req.KubernetesConfigJSON = raw
	}
}

// specBudget bounds the decoded specs kept, counted as specCost per byte of
// argument text (a decoded spec takes a few times its JSON's size).
const (
	specBudget = 4 << 20
	specCost   = 3
)

// decodedSpecs keeps decoded spec arguments by their text: a workflow's
// component, task, container and Kubernetes specs repeat on every retry,
// loop iteration and run of the same pipeline, and decoding them was a
// fifth of a CONTAINER call's CPU. The driver only reads specs, so one
// decoded value serves every call with the same text.
var decodedSpecs = memo.New[[sha256.Size]byte, decodedSpec](specBudget)

type decodedSpec struct {
	msg proto.Message
	doc []byte
}

// decodeSpec is message for a spec argument, through decodedSpecs. The key
// is a cryptographic hash of the argument's name and text, so no template
// can make its call decode to another call's spec.
func decodeSpec[M proto.Message](r *argReader, arg string, fresh func() M) (M, []byte, bool) {
	var zero M
	raw, ok := r.raw[arg]
	if !ok || r.err != nil {
		return zero, nil, false
	}
	h := sha256.New()
	h.Write([]byte(arg))
	h.Write([]byte{0})
	h.Write(raw)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	if d, ok := decodedSpecs.Get(key); ok {
		if m, ok := d.msg.(M); ok {
			return m, d.doc, true
		}
	}
	m := fresh()
	doc, ok := r.message(arg, m)
	if !ok {
		return zero, nil, false
	}
	decodedSpecs.Put(key, decodedSpec{m, doc}, specCost*len(raw))
	return m, doc, true
}

func readOptions(r *argReader, req *driver.Request) {
	req.Options = driver.Options{
		MLMDAddress:         r.strOr("mlmd_server_address", defaultMLMDAddress),
		MLMDPort:            r.strOr("mlmd_server_port", defaultMLMDPort),
		MLPipelineAddress:   r.strOr("ml_pipeline_server_address", defaultMLPipelineAddress),
		MLPipelinePort:      r.strOr("ml_pipeline_server_port", defaultMLPipelinePort),
		MLPipelineTLS:       r.boolean("ml_pipeline_tls_enabled"),
		MetadataTLS:         r.boolean("metadata_tls_enabled"),
		CACertPath:          r.str("ca_cert_path"),
		CacheDisabled:       r.boolean("cache_disabled"),
		LogLevel:            r.strOr("log_level", "1"),
		PublishLogs:         r.strOr("publish_logs", "true"),
		HTTPProxy:           r.str("http_proxy"),
		HTTPSProxy:          r.str("https_proxy"),
		NoProxy:             r.str("no_proxy"),
		DefaultRunAsUser:    r.optInt64("default_run_as_user"),
		DefaultRunAsGroup:   r.optInt64("default_run_as_group"),
		DefaultRunAsNonRoot: r.optBool("default_run_as_non_root"),
		DefaultHostUsers:    r.optBool("default_host_users"),
	}
}

// validate applies the per-type rules of KFP's driver, naming the argument.
func validate(req *driver.Request) error {
	bad := func(arg, format string, a ...any) error {
		return &ArgError{Arg: arg, Err: fmt.Errorf(format, a...)}
	}
	switch {
	case req.PipelineName == "":
		return bad("pipeline_name", "must not be empty")
	case req.RunID == "":
		return bad("run_id", "must not be empty")
	case req.Line == driver.LineMLMD && req.Component == nil:
		return bad("component", "must not be empty")
	}
	if err := checkPaths(req); err != nil {
		return err
	}
	if req.Line == driver.LineNative {
		return validateNative(req, bad)
	}
	if req.Type == driver.RootDAG {
		switch {
		case req.RuntimeConfig == nil:
			return bad("runtime_config", "must not be empty for ROOT_DAG")
		case req.Task.GetTaskInfo().GetName() != "":
			return bad("task", "must be empty for ROOT_DAG")
		case req.DAGExecutionID != 0:
			return bad("dag_execution_id", "must be 0 for ROOT_DAG, got %d", req.DAGExecutionID)
		case req.Container != nil:
			return bad("container", "must be empty for ROOT_DAG")
		case req.IterationIndex >= 0:
			return bad("iteration_index", "must be negative for ROOT_DAG, got %d", req.IterationIndex)
		}
		return nil
	}
	switch {
	case req.Task.GetTaskInfo().GetName() == "":
		return bad("task", "taskInfo.name must not be empty for %s", req.Type)
	case req.DAGExecutionID == 0:
		return bad("dag_execution_id", "must not be 0 for %s", req.Type)
	case req.RuntimeConfig != nil:
		return bad("runtime_config", "must be empty for %s", req.Type)
	case req.Type == driver.DAG && req.Container != nil:
		return bad("container", "must be empty for DAG")
	case req.Type == driver.Container && req.Container == nil:
		return bad("container", "must not be empty for CONTAINER")
	}
	return nil
}

// validateNative applies the native line's per-type rules: the task is
// named under its parent task, whose ID the root has none of.
func validateNative(req *driver.Request, bad func(arg, format string, a ...any) error) error {
	if req.Type == driver.RootDAG {
		switch {
		case req.RuntimeConfig == nil:
			return bad("runtime_config", "must not be empty for ROOT_DAG")
		case req.ParentTaskID != "":
			return bad("parent_task_id", "must be empty for ROOT_DAG, got %q", req.ParentTaskID)
		case req.IterationIndex >= 0:
			return bad("iteration_index", "must be negative for ROOT_DAG, got %d", req.IterationIndex)
		}
		return nil
	}
	switch {
	case req.TaskName == "":
		return bad("task_name", "must not be empty for %s", req.Type)
	case req.ParentTaskID == "":
		return bad("parent_task_id", "must not be empty for %s", req.Type)
	case req.RuntimeConfig != nil:
		return bad("runtime_config", "must be empty for %s", req.Type)
	}
	return nil
}

// checkPaths rejects names that become storage path components and could
// escape the pipeline root.
func checkPaths(req *driver.Request) error {
	for _, a := range [][2]string{{"pipeline_name", req.PipelineName}, {"run_id", req.RunID}, {"task_name", req.TaskName}} {
		if err := driver.CheckPathComponent(a[1]); err != nil {
			return &ArgError{Arg: a[0], Err: err}
		}
	}
	outs := req.Component.GetOutputDefinitions()
	names := append(slices.Sorted(maps.Keys(outs.GetArtifacts())), slices.Sorted(maps.Keys(outs.GetParameters()))...)
	for _, name := range names {
		if err := driver.CheckPathComponent(name); err != nil {
			return &ArgError{Arg: "component", Err: fmt.Errorf("output %q: %v", name, err)}
		}
	}
	return nil
}

func unknownArgs(raw map[string]json.RawMessage) []string {
	var out []string
	for name := range raw {
		if !knownArgs[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
