package drivertest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// Launcher stands in for KFP's launcher in the executor pod: it reads the
// launch flags the driver put in the pod spec patch and publishes the
// task's outputs to MLMD (execution COMPLETE or FAILED, output parameters,
// output artifacts with OUTPUT events), records the cache entry, and
// propagates DAG states upwards, as the real launcher does.
type Launcher struct {
	MLMD      *mlmd.Client
	Cache     *cache.Cache // nil: no cache entries are recorded
	Namespace string
	Now       func() time.Time
}

// Launch is one parsed launcher invocation, of either line's launcher.
type Launch struct {
	// Line is the launcher's KFP line: told apart by --task_id (native)
	// or --execution_id (MLMD).
	Line         driver.Line
	PipelineName string
	// Namespace is the pod's namespace; "" when the command leaves it to
	// the pod's environment, which the launcher's own Namespace stands for.
	Namespace   string
	RunID       string
	ExecutionID int64 // MLMD line
	Input       *pipelinespec.ExecutorInput
	// Component is the --component_spec on the MLMD line; the native
	// launcher gets none (KFP's reads the run's spec), so whoever knows the
	// spec (the walker) sets it.
	Component *pipelinespec.ComponentSpec

	// The native line's flags.
	TaskID       string
	ParentTaskID string
	TaskName     string
	Fingerprint  string
	// IterationIndex is --iteration_index, -1 when absent.
	IterationIndex int
}

// ParseLaunch reads the launcher flags from a pod spec patch.
func ParseLaunch(patch string) (*Launch, error) {
	var spec corev1.PodSpec
	if err := json.Unmarshal([]byte(patch), &spec); err != nil {
		return nil, fmt.Errorf("pod spec patch: %w", err)
	}
	if len(spec.Containers) == 0 || spec.Containers[0].Name != executor.MainContainer {
		return nil, fmt.Errorf("pod spec patch: first container is not %q", executor.MainContainer)
	}
	cmd := spec.Containers[0].Command
	if len(cmd) == 0 || cmd[0] != executor.LauncherPath || cmd[len(cmd)-1] != "--" {
		return nil, fmt.Errorf("pod spec patch: main command %q is not a launcher invocation", cmd)
	}
	flags := map[string]string{}
	for i := 1; i < len(cmd)-1; i++ {
		// Booleans come as --flag=value, the rest as --flag value.
		if k, v, ok := strings.Cut(cmd[i], "="); ok {
			flags[k] = v
			continue
		}
		if i+1 < len(cmd)-1 {
			flags[cmd[i]] = cmd[i+1]
			i++
		}
	}
	l := &Launch{PipelineName: flags["--pipeline_name"], RunID: flags["--run_id"],
		Input: &pipelinespec.ExecutorInput{}, IterationIndex: -1}
	if ns := flags["--namespace"]; !strings.HasPrefix(ns, "$(") {
		l.Namespace = ns
	}
	if err := protojson.Unmarshal([]byte(flags["--executor_input"]), l.Input); err != nil {
		return nil, fmt.Errorf("--executor_input: %w", err)
	}
	if _, native := flags["--task_id"]; native {
		return parseNative(l, flags)
	}
	var err error
	if l.ExecutionID, err = strconv.ParseInt(flags["--execution_id"], 10, 64); err != nil {
		return nil, fmt.Errorf("--execution_id: %w", err)
	}
	l.Component = &pipelinespec.ComponentSpec{}
	if err := protojson.Unmarshal([]byte(flags["--component_spec"]), l.Component); err != nil {
		return nil, fmt.Errorf("--component_spec: %w", err)
	}
	return l, nil
}

// parseNative reads the flags of KFP master's launcher (executor.NativeCommand).
func parseNative(l *Launch, flags map[string]string) (*Launch, error) {
	l.Line = driver.LineNative
	l.TaskID, l.ParentTaskID, l.TaskName, l.Fingerprint = flags["--task_id"], flags["--parent_task_id"], flags["--task_name"], flags["--fingerprint"]
	switch {
	case l.TaskID == "":
		return nil, fmt.Errorf("--task_id is empty")
	case l.ParentTaskID == "":
		return nil, fmt.Errorf("--parent_task_id is empty")
	case l.TaskName == "":
		return nil, fmt.Errorf("--task_name is empty")
	}
	if s, ok := flags["--iteration_index"]; ok {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 {
			return nil, fmt.Errorf("--iteration_index %q: want a non-negative integer", s)
		}
		l.IterationIndex = i
	}
	return l, nil
}

// Outcome is what the user code "produced": output parameter values (the
// launcher keeps only declared ones) and whether it failed.
type Outcome struct {
	Parameters map[string]*structpb.Value
	Failed     bool
	// ListSize is how many artifacts a list output gets (default 2).
	ListSize int
}

// Complete publishes a task as the launcher does after the user code ran.
func (l *Launcher) Complete(ctx context.Context, launch *Launch, out Outcome) error {
	run, err := l.MLMD.RunOf(ctx, launch.PipelineName, launch.RunID, launch.ExecutionID)
	if err != nil {
		return err
	}
	exec, err := l.MLMD.ExecutionByID(ctx, launch.ExecutionID)
	if err != nil {
		return err
	}
	refs, err := l.registerArtifacts(ctx, run, launch, out)
	if err != nil {
		return err
	}
	if err := l.publish(ctx, run, exec, launch, out, refs); err != nil {
		return err
	}
	if fp := exec.String(mlmd.PropCacheFingerprint); fp != "" && !out.Failed && l.Cache != nil {
		now := l.now()
		if err := l.Cache.Record(ctx, cache.Entry{Namespace: l.namespace(launch), PipelineName: launch.PipelineName,
			RunID: launch.RunID, ExecutionID: exec.ID(), Fingerprint: fp, StartedAt: now, FinishedAt: now}); err != nil {
			return err
		}
	}
	return l.MLMD.PropagateDAGState(ctx, run, exec.ParentDAGID())
}

func (l *Launcher) namespace(launch *Launch) string { return cmp.Or(launch.Namespace, l.Namespace) }

func (l *Launcher) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Launcher) publish(ctx context.Context, run *mlmd.Run, exec *mlmd.Execution, launch *Launch, out Outcome, refs []mlmd.ArtifactRef) error {
	e := proto.Clone(exec.Proto).(*pb.Execution)
	state := pb.Execution_COMPLETE
	if out.Failed {
		state = pb.Execution_FAILED
	}
	e.LastKnownState = state.Enum()
	outputs := map[string]*structpb.Value{}
	for name := range launch.Input.GetOutputs().GetParameters() {
		if v, ok := out.Parameters[name]; ok && !out.Failed {
			outputs[name] = v
		}
	}
	e.CustomProperties[mlmd.PropOutputs] = mlmd.StructValue(outputs)
	e.CustomProperties[mlmd.PropPodName] = mlmd.StringValue("pod-" + strconv.FormatInt(exec.ID(), 10))
	e.CustomProperties[mlmd.PropNamespace] = mlmd.StringValue(l.namespace(launch))
	return l.MLMD.UpdateExecution(ctx, run, e, refs)
}

// registerArtifacts creates the task's output artifacts (only the logs
// when it failed), one per list element for list outputs.
func (l *Launcher) registerArtifacts(ctx context.Context, run *mlmd.Run, launch *Launch, out Outcome) ([]mlmd.ArtifactRef, error) {
	defs := launch.Component.GetOutputDefinitions().GetArtifacts()
	var refs []mlmd.ArtifactRef
	for _, name := range slices.Sorted(maps.Keys(launch.Input.GetOutputs().GetArtifacts())) {
		if out.Failed && name != executor.LogsArtifact {
			continue
		}
		ra := launch.Input.GetOutputs().GetArtifacts()[name].GetArtifacts()[0]
		n := 1
		if defs[name].GetIsArtifactList() {
			n = out.ListSize
			if n == 0 {
				n = 2
			}
		}
		ids, err := l.MLMD.PutArtifacts(ctx, schemaTitle(ra), newArtifacts(ra, name, n, run.StoreSessionInfo)...)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			refs = append(refs, mlmd.ArtifactRef{Key: name, ArtifactID: id})
		}
	}
	return refs, nil
}

func newArtifacts(ra *pipelinespec.RuntimeArtifact, name string, n int, session string) []*pb.Artifact {
	var arts []*pb.Artifact
	for i := range n {
		uri := ra.GetUri()
		if n > 1 {
			uri += "/" + strconv.Itoa(i)
		}
		props := metadataProperties(ra.GetMetadata())
		props["display_name"] = mlmd.StringValue(name)
		props["store_session_info"] = mlmd.StringValue(session)
		arts = append(arts, &pb.Artifact{Uri: proto.String(uri), State: pb.Artifact_LIVE.Enum(), CustomProperties: props})
	}
	return arts
}

// metadataProperties records an artifact's metadata (what the user code
// set, e.g. Dataset.metadata["length"]) as custom properties, as KFP's
// launcher does, so downstream executor inputs carry it. Lists become
// structs holding them (MLMD has no list value).
func metadataProperties(md *structpb.Struct) map[string]*pb.Value {
	props := map[string]*pb.Value{}
	for k, v := range md.GetFields() {
		switch x := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			props[k] = mlmd.StringValue(x.StringValue)
		case *structpb.Value_NumberValue:
			props[k] = &pb.Value{Value: &pb.Value_DoubleValue{DoubleValue: x.NumberValue}}
		case *structpb.Value_BoolValue:
			props[k] = &pb.Value{Value: &pb.Value_BoolValue{BoolValue: x.BoolValue}}
		case *structpb.Value_StructValue:
			props[k] = &pb.Value{Value: &pb.Value_StructValue{StructValue: x.StructValue}}
		case *structpb.Value_ListValue:
			props[k] = &pb.Value{Value: &pb.Value_StructValue{StructValue: &structpb.Struct{
				Fields: map[string]*structpb.Value{"list": v}}}}
		}
	}
	return props
}

func schemaTitle(ra *pipelinespec.RuntimeArtifact) string {
	if t := ra.GetType().GetSchemaTitle(); t != "" {
		return t
	}
	return "system.Artifact"
}
