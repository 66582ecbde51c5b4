package e2e

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// run plays the user code of one executor pod: a KFP container task (its
// launcher flags are in the pod spec patch the driver returned) or an
// importer. It reports whether the user code failed. The template's
// inputs come from the workflow node (Argo strips input parameters from
// the template it hands the pod).
func (e *executorPlayer) run(ctx context.Context, pod *corev1.Pod, b Behaviour) (bool, error) {
	in, err := e.s.nodeInputs(ctx, pod)
	if err != nil {
		return false, err
	}
	switch {
	case in["pod-spec-patch"] != "":
		return e.container(ctx, pod.Namespace, in["pod-spec-patch"], b)
	case in["importer"] != "":
		return false, e.importer(ctx, pod, in)
	}
	return false, fmt.Errorf("node %s is neither a KFP container task nor an importer", pod.Annotations[annotationNodeID])
}

// nodeInputs returns the input parameters of the pod's workflow node,
// waiting for the controller to persist the node (it creates the pod
// first).
func (s *Stack) nodeInputs(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
	id := pod.Annotations[annotationNodeID]
	wfs := s.Workflows.ArgoprojV1alpha1().Workflows(pod.Namespace)
	in := map[string]string{}
	err := poll(ctx, "workflow node "+id, func() (bool, error) {
		wf, err := wfs.Get(ctx, pod.Labels[labelWorkflow], metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		node, ok := wf.Status.Nodes[id]
		if !ok {
			return false, nil
		}
		if node.Inputs != nil {
			for _, p := range node.Inputs.Parameters {
				in[p.Name] = p.GetValue()
			}
		}
		return true, nil
	})
	return in, err
}

// container completes a KFP container task as the launcher would.
func (e *executorPlayer) container(ctx context.Context, ns, patch string, b Behaviour) (bool, error) {
	launch, err := drivertest.ParseLaunch(patch)
	if err != nil {
		return false, err
	}
	exec, err := e.mlmd.ExecutionByID(ctx, launch.ExecutionID)
	if err != nil {
		return false, fmt.Errorf("execution %d: %w", launch.ExecutionID, err)
	}
	task := exec.TaskName()
	out := drivertest.Outcome{Parameters: produce(b.Produce, task, launch), Failed: b.Fail[task]}
	l := &drivertest.Launcher{MLMD: e.mlmd, Namespace: ns}
	if b.Cache {
		l.Cache = e.cache
	}
	if err := l.Complete(ctx, launch, out); err != nil {
		return false, fmt.Errorf("task %s: %w", task, err)
	}
	return out.Failed, nil
}

// produce runs the played user code for every declared output parameter.
func produce(f ProduceFunc, task string, launch *drivertest.Launch) map[string]*structpb.Value {
	if f == nil {
		f = DefaultOutput
	}
	out := map[string]*structpb.Value{}
	for name, def := range launch.Component.GetOutputDefinitions().GetParameters() {
		c := Call{Task: task, Output: name, Def: def, Inputs: launch.Input.GetInputs().GetParameterValues()}
		if v := f(c); v != nil {
			out[name] = v
		}
	}
	return out
}

// importer registers the imported artifact as KFP's launcher does in
// importer mode, from the template's resolved flags and inputs.
func (e *executorPlayer) importer(ctx context.Context, pod *corev1.Pod, in map[string]string) error {
	flags := mainFlags(pod)
	task, comp, spec := &pipelinespec.PipelineTaskSpec{}, &pipelinespec.ComponentSpec{}, &pipelinespec.PipelineDeploymentConfig_ImporterSpec{}
	for name, m := range map[string]proto.Message{"task": task, "component": comp, "importer": spec} {
		if err := lenient.Unmarshal([]byte(in[name]), m); err != nil {
			return fmt.Errorf("importer input %s: %w", name, err)
		}
	}
	parentID, err := strconv.ParseInt(in["parent-dag-id"], 10, 64)
	if err != nil {
		return fmt.Errorf("importer parent-dag-id: %w", err)
	}
	run, err := e.mlmd.RunOf(ctx, flags["--pipeline_name"], flags["--run_id"], parentID)
	if err != nil {
		return err
	}
	parent, err := e.mlmd.ExecutionByID(ctx, parentID)
	if err != nil {
		return err
	}
	key := "artifact"
	for k := range comp.GetOutputDefinitions().GetArtifacts() {
		key = k
	}
	l := &drivertest.Launcher{MLMD: e.mlmd, Namespace: pod.Namespace}
	return l.Import(ctx, run, parent, task, spec, key)
}

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

// mainFlags reads the "--name value" pairs of the main container's
// command line (Argo's emissary wrapper in front does not matter).
func mainFlags(pod *corev1.Pod) map[string]string {
	for _, c := range pod.Spec.Containers {
		if c.Name == agentMain {
			return argFlags(append(append([]string(nil), c.Command...), c.Args...))
		}
	}
	return nil
}

// argFlags reads "--name value" pairs.
func argFlags(args []string) map[string]string {
	flags := map[string]string{}
	for i := 0; i+1 < len(args); i++ {
		if len(args[i]) > 2 && args[i][:2] == "--" {
			flags[args[i]] = args[i+1]
		}
	}
	return flags
}
