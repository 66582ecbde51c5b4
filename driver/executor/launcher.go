package executor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/memo"
)

// LauncherPath is where KFP's executor template's init container copies the
// launcher binary.
const LauncherPath = "/kfp-launcher/launch"

// Launcher is what the launcher needs to run and publish the task.
type Launcher struct {
	PipelineName string
	RunID        string
	ExecutionID  int64
	Input        *pipelinespec.ExecutorInput
	Component    *pipelinespec.ComponentSpec
	Options      driver.Options
}

// MLMDCommand is the MLMD line's launcher command for the main container,
// up to the "--" after which the user command (already in args) follows.
func MLMDCommand(l Launcher) ([]string, error) {
	input, err := compactJSON(l.Input)
	if err != nil {
		return nil, fmt.Errorf("encoding executor input: %w", err)
	}
	comp, err := componentJSON(l.Component)
	if err != nil {
		return nil, fmt.Errorf("encoding component spec: %w", err)
	}
	o := l.Options
	return []string{
		LauncherPath,
		"--executor_type", "container",
		"--pipeline_name", l.PipelineName,
		"--run_id", l.RunID,
		"--execution_id", strconv.FormatInt(l.ExecutionID, 10),
		"--executor_input", input,
		"--component_spec", comp,
		"--pod_name", "$(KFP_POD_NAME)",
		"--pod_uid", "$(KFP_POD_UID)",
		"--ml_pipeline_server_address", o.MLPipelineAddress,
		"--ml_pipeline_server_port", o.MLPipelinePort,
		"--mlmd_server_address", o.MLMDAddress,
		"--mlmd_server_port", o.MLMDPort,
		"--publish_logs", o.PublishLogs,
		"--ml_pipeline_tls_enabled=" + strconv.FormatBool(o.MLPipelineTLS),
		"--metadata_tls_enabled=" + strconv.FormatBool(o.MetadataTLS),
		"--ca_cert_path", o.CACertPath,
		"--cache_disabled=" + strconv.FormatBool(o.CacheDisabled),
		"--log_level", o.LogLevel,
		"--",
	}, nil
}

// Native is what the native line's launcher needs: it publishes the
// task's outputs to the KFP API server's task and artifact APIs.
type Native struct {
	PipelineName string
	RunID        string
	TaskID       string
	ParentTaskID string
	TaskName     string
	Fingerprint  string
	// IterationIndex is the loop iteration the task runs in, -1 for none.
	IterationIndex int
	Input          *pipelinespec.ExecutorInput
	Options        driver.Options
}

// NativeCommand is the native line's launcher command (KFP master's
// launcher flags), up to the "--" before the user command.
func NativeCommand(l Native) ([]string, error) {
	input, err := compactJSON(l.Input)
	if err != nil {
		return nil, fmt.Errorf("encoding executor input: %w", err)
	}
	o := l.Options
	cmd := []string{
		LauncherPath,
		"--executor_type", "container",
		"--pipeline_name", l.PipelineName,
		"--run_id", l.RunID,
		"--task_id", l.TaskID,
		"--parent_task_id", l.ParentTaskID,
		"--executor_input", input,
		"--namespace", "$(NAMESPACE)",
		"--pod_name", "$(KFP_POD_NAME)",
		"--pod_uid", "$(KFP_POD_UID)",
		"--ml_pipeline_server_address", o.MLPipelineAddress,
		"--ml_pipeline_server_port", o.MLPipelinePort,
		"--publish_logs", o.PublishLogs,
		"--fingerprint", l.Fingerprint,
		"--task_name", l.TaskName,
		"--ml_pipeline_tls_enabled=" + strconv.FormatBool(o.MLPipelineTLS),
		"--ca_cert_path", o.CACertPath,
		"--cache_disabled=" + strconv.FormatBool(o.CacheDisabled),
		"--log_level", o.LogLevel,
	}
	if l.IterationIndex >= 0 {
		cmd = append(cmd, "--iteration_index", strconv.Itoa(l.IterationIndex))
	}
	return append(cmd, "--"), nil
}

// SetCommand makes the main container run cmd (the launcher's).
func SetCommand(spec *corev1.PodSpec, cmd []string) error {
	for i := range spec.Containers {
		if spec.Containers[i].Name == MainContainer {
			spec.Containers[i].Command = cmd
			return nil
		}
	}
	return fmt.Errorf("pod spec patch has no %q container", MainContainer)
}

// compactJSON is protojson without the random spacing protojson adds, so a
// repeated call renders byte-identical patches.
func compactJSON(m proto.Message) (string, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// componentJSONs keeps the launcher's --component_spec text per decoded
// component: the plugin shares one decoded spec between the calls that
// send the same text (plugin.decodeSpec), and encoding it again on every
// call was a tenth of a CONTAINER call's CPU. Specs are read-only once
// decoded, so the text stays right for the pointer.
var componentJSONs = memo.New[*pipelinespec.ComponentSpec, string](4 << 20)

func componentJSON(c *pipelinespec.ComponentSpec) (string, error) {
	if s, ok := componentJSONs.Get(c); ok {
		return s, nil
	}
	s, err := compactJSON(c)
	if err != nil {
		return "", err
	}
	componentJSONs.Put(c, s, len(s))
	return s, nil
}

// Patch renders a pod spec as the compact JSON Argo's podSpecPatch takes.
func Patch(spec *corev1.PodSpec) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("encoding pod spec patch: %w", err)
	}
	return string(b), nil
}

// ExecutorInput reads the executor input back out of a pod spec patch (what
// KFP's launcher receives); tests and the launcher stand-in use it.
func ExecutorInput(patch string) (*pipelinespec.ExecutorInput, error) {
	var spec corev1.PodSpec
	if err := json.Unmarshal([]byte(patch), &spec); err != nil {
		return nil, fmt.Errorf("decoding pod spec patch: %w", err)
	}
	for _, c := range spec.Containers {
		for i := 0; c.Name == MainContainer && i+1 < len(c.Command); i++ {
			if c.Command[i] == "--executor_input" {
				in := &pipelinespec.ExecutorInput{}
				return in, protojson.Unmarshal([]byte(c.Command[i+1]), in)
			}
		}
	}
	return nil, fmt.Errorf("pod spec patch has no --executor_input on the %q container", MainContainer)
}
