package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// NativeCorpusDir holds KFP master's compiled workflows (the native line:
// no MLMD, the driver reads specs from the run through the API server).
const NativeCorpusDir = "convert/testdata/native/compiled-workflows"

// NativeCompiled reads a native-line workflow as KFP master's API server
// creates it.
func NativeCompiled(file string) (*wfv1.Workflow, error) {
	return readWorkflow(filepath.Join(NativeCorpusDir, file))
}

func readWorkflow(rel string) (*wfv1.Workflow, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	var wf wfv1.Workflow
	if err := yaml.UnmarshalStrict(b, &wf); err != nil {
		return nil, fmt.Errorf("decode %s: %w", rel, err)
	}
	return &wf, nil
}

// NativeSpec is the pipeline spec a native-line workflow was compiled from.
// Both corpora were compiled from the same specs, and the KFP 2.x workflow
// of the same name carries them inline (components-*, implementations-*
// and each driver task's task JSON), so the spec is put back together from
// it: root, the components by the name each task references, and an
// executor (container or importer) per executor label.
func NativeSpec(file string) (*structpb.Struct, error) {
	wf, err := Compiled(file)
	if err != nil {
		return nil, err
	}
	args := map[string]string{}
	for _, p := range wf.Spec.Arguments.Parameters {
		args[p.Name] = p.Value.String()
	}
	resolve := func(v string) string {
		if name, ok := strings.CutPrefix(v, "{{workflow.parameters."); ok {
			return args[strings.TrimSuffix(name, "}}")]
		}
		return v
	}
	var root map[string]any
	if err := json.Unmarshal([]byte(args["components-root"]), &root); err != nil {
		return nil, fmt.Errorf("%s: components-root: %w", file, err)
	}
	comps, executors := map[string]any{}, map[string]any{}
	pipelineName := ""
	for _, t := range wf.Spec.Templates {
		if c := t.Container; c != nil && pipelineName == "" {
			for i := 0; i+1 < len(c.Args); i++ {
				if c.Args[i] == "--pipeline_name" {
					pipelineName = c.Args[i+1]
				}
			}
		}
		if t.DAG == nil {
			continue
		}
		for _, task := range t.DAG.Tasks {
			a := map[string]string{}
			for _, p := range task.Arguments.Parameters {
				a[p.Name] = resolve(p.Value.String())
			}
			if a["task"] == "" || a["component"] == "" {
				continue
			}
			var ts struct {
				ComponentRef struct{ Name string } `json:"componentRef"`
			}
			var comp map[string]any
			if err := json.Unmarshal([]byte(a["task"]), &ts); err != nil {
				return nil, fmt.Errorf("%s: task of %s: %w", file, task.Name, err)
			}
			if err := json.Unmarshal([]byte(a["component"]), &comp); err != nil {
				return nil, fmt.Errorf("%s: component of %s: %w", file, task.Name, err)
			}
			comps[ts.ComponentRef.Name] = comp
			label, _ := comp["executorLabel"].(string)
			for _, kind := range []string{"container", "importer"} {
				if a[kind] == "" || label == "" {
					continue
				}
				var e map[string]any
				if err := json.Unmarshal([]byte(a[kind]), &e); err != nil {
					return nil, fmt.Errorf("%s: %s of %s: %w", file, kind, task.Name, err)
				}
				executors[label] = map[string]any{kind: e}
			}
		}
	}
	return structpb.NewStruct(map[string]any{
		"pipelineInfo": map[string]any{"name": pipelineName}, "root": root, "components": comps,
		"deploymentSpec": map[string]any{"executors": executors}, "schemaVersion": "2.1.0",
	})
}

// RunNative runs a native-line corpus workflow as KFP master's API server
// does: it creates the workflow (the webhook converts it) and stores the
// run with the workflow's UID as run ID, its pipeline spec and runtime
// config. The store must happen before the root driver call reads the run,
// and the UID exists only once the workflow does: the workflow is created
// suspended (Argo starts no node of a suspended workflow), the run is
// stored, then the workflow is resumed.
func (s *Stack) RunNative(ctx context.Context, ns, file string, params map[string]any) (*wfv1.Workflow, error) {
	return s.runNative(ctx, ns, file, params, true)
}

func (s *Stack) runNative(ctx context.Context, ns, file string, params map[string]any, cache bool) (*wfv1.Workflow, error) {
	created, err := s.submitNative(ctx, ns, file, params, cache)
	if err != nil {
		return nil, err
	}
	return s.Wait(ctx, ns, created.Name)
}

// SubmitNative creates, seeds and resumes a native run (see RunNative)
// without waiting for it.
func (s *Stack) SubmitNative(ctx context.Context, ns, file string, params map[string]any) (*wfv1.Workflow, error) {
	return s.submitNative(ctx, ns, file, params, true)
}

func (s *Stack) submitNative(ctx context.Context, ns, file string, params map[string]any, cache bool) (*wfv1.Workflow, error) {
	if err := s.PrepareNamespace(ctx, ns); err != nil {
		return nil, err
	}
	wf, err := NativeCompiled(file)
	if err != nil {
		return nil, err
	}
	spec, err := NativeSpec(file)
	if err != nil {
		return nil, err
	}
	SetRunDisplayName(wf, RunDisplayName(file))
	if err := SetRuntimeParameters(wf, params); err != nil {
		return nil, err
	}
	if !cache {
		if err := WithoutCaching(wf); err != nil {
			return nil, err
		}
	}
	suspend := true
	wf.Spec.Suspend = &suspend
	created, err := s.Submit(ctx, ns, wf)
	if err != nil {
		return nil, err
	}
	cfg := &pb.RuntimeConfig{Parameters: map[string]*structpb.Value{}}
	for k, v := range params {
		if cfg.Parameters[k], err = structpb.NewValue(v); err != nil {
			return nil, err
		}
	}
	s.svc.API.AddRun(ns, &pb.Run{RunId: string(created.UID), DisplayName: RunDisplayName(file),
		PipelineSource: &pb.Run_PipelineSpec{PipelineSpec: spec}, RuntimeConfig: cfg, ServiceAccount: created.Spec.ServiceAccountName})
	_, err = s.Workflows.ArgoprojV1alpha1().Workflows(ns).Patch(ctx, created.Name, types.MergePatchType,
		[]byte(`{"spec":{"suspend":null}}`), metav1.PatchOptions{})
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", created.Name, err)
	}
	return created, nil
}

// nativeLaunched reads a native launcher invocation from a pod spec patch:
// the executor input, and the task it runs (--task_id, --task_name).
func nativeLaunched(patch string) (*drivertest.Launch, map[string]string, bool, error) {
	var spec corev1.PodSpec
	if err := json.Unmarshal([]byte(patch), &spec); err != nil {
		return nil, nil, false, fmt.Errorf("pod spec patch: %w", err)
	}
	if len(spec.Containers) == 0 || spec.Containers[0].Name != executor.MainContainer {
		return nil, nil, false, fmt.Errorf("pod spec patch: first container is not %q", executor.MainContainer)
	}
	cmd := spec.Containers[0].Command
	flags := map[string]string{}
	for i := 1; i+1 < len(cmd); i++ {
		if strings.HasPrefix(cmd[i], "--") && !strings.Contains(cmd[i], "=") {
			flags[cmd[i]] = cmd[i+1]
			i++
		}
	}
	if _, ok := flags["--task_id"]; !ok {
		return nil, nil, false, nil
	}
	l := &drivertest.Launch{PipelineName: flags["--pipeline_name"], RunID: flags["--run_id"], Input: &pipelinespec.ExecutorInput{}}
	if err := protojson.Unmarshal([]byte(flags["--executor_input"]), l.Input); err != nil {
		return nil, nil, false, fmt.Errorf("--executor_input: %w", err)
	}
	return l, flags, true, nil
}

// APITask reads a task of the run from the API test server.
func (s *Stack) APITask(ctx context.Context, runID, taskID string) (*pb.PipelineTask, error) {
	return s.svc.API.GetTask(ctx, &pb.GetTaskRequest{RunId: runID, TaskId: taskID})
}

// APIChildren lists the tasks of the run whose parent is parentID ("" for
// every task of the run).
func (s *Stack) APIChildren(ctx context.Context, runID, parentID string) ([]*pb.PipelineTask, error) {
	req := &pb.ListTasksRequest{RunId: runID, PageSize: 200}
	if parentID != "" {
		req.ParentFilter = &pb.ListTasksRequest_ParentId{ParentId: parentID}
	}
	var all []*pb.PipelineTask
	for {
		resp, err := s.svc.API.ListTasks(ctx, req)
		if err != nil {
			return nil, err
		}
		all = append(all, resp.GetTasks()...)
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return all, nil
		}
	}
}
