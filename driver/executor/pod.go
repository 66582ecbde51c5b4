package executor

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/inputs"
)

// MainContainer is the user container of KFP's executor template.
const MainContainer = "main"

// Task is what a container task's pod spec patch is built from.
type Task struct {
	Input     *pipelinespec.ExecutorInput
	Component *pipelinespec.ComponentSpec
	Container *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec
	RunName   string // names the workspace PVC (<run_name>-kfp-workspace)
	Options   driver.Options
}

// PodSpec builds the patch's "main" container (image, user command as
// args, env, resources) and the workspace mount. The launcher command is
// set later by SetCommand, once the record is written.
func PodSpec(t Task) (*corev1.PodSpec, error) {
	params := placeholderParams(t.Input.GetInputs().GetParameterValues(), t.Component)
	main, err := mainContainer(t, params)
	if err != nil {
		return nil, err
	}
	spec := &corev1.PodSpec{Containers: []corev1.Container{main}}
	addModelcars(spec, t.Input.GetInputs(), env(t.Container, driver.Options{}))
	if usesWorkspace(t.Input.GetInputs()) {
		if err := mountWorkspace(spec, t.RunName); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// placeholderParams are the values command-line placeholders see: the
// resolved inputs plus the declared default of any input left unset. The
// executor input itself keeps such an input absent, as KFP records it; the
// command line still needs a value when it names the input.
func placeholderParams(resolved map[string]*structpb.Value, comp *pipelinespec.ComponentSpec) map[string]*structpb.Value {
	out := make(map[string]*structpb.Value, len(resolved))
	for name, def := range comp.GetInputDefinitions().GetParameters() {
		if def.GetDefaultValue() != nil {
			out[name] = def.GetDefaultValue()
		}
	}
	maps.Copy(out, resolved)
	return out
}

func mainContainer(t Task, params map[string]*structpb.Value) (corev1.Container, error) {
	c := corev1.Container{Name: MainContainer}
	var err error
	if c.Image, err = wholeParam(t.Container.GetImage(), params); err != nil {
		return c, fmt.Errorf("container image: %w", err)
	}
	cmd, err := resolveArgs(t.Container.GetCommand(), params)
	if err != nil {
		return c, fmt.Errorf("container command: %w", err)
	}
	args, err := resolveArgs(t.Container.GetArgs(), params)
	if err != nil {
		return c, fmt.Errorf("container args: %w", err)
	}
	c.Args = append(cmd, args...)
	c.Env = env(t.Container, t.Options)
	if c.Resources, err = resources(t.Container.GetResources(), params); err != nil {
		return c, err
	}
	return c, nil
}

func env(ctr *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec, o driver.Options) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, e := range ctr.GetEnv() {
		out = append(out, corev1.EnvVar{Name: e.GetName(), Value: e.GetValue()})
	}
	for _, p := range [][3]string{{"http_proxy", "HTTP_PROXY", o.HTTPProxy}, {"https_proxy", "HTTPS_PROXY", o.HTTPSProxy}, {"no_proxy", "NO_PROXY", o.NoProxy}} {
		if p[2] != "" {
			out = append(out, corev1.EnvVar{Name: p[0], Value: p[2]}, corev1.EnvVar{Name: p[1], Value: p[2]})
		}
	}
	return out
}

// quantity is one resource value to set, as written in the spec.
type quantity struct {
	list  *corev1.ResourceList
	name  corev1.ResourceName
	field string
	value string
}

// resources maps the container's resource spec; the string fields (which
// may name an input parameter) win over the deprecated numbers, and
// accelerators only set limits.
func resources(r *pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec_ResourceSpec, params map[string]*structpb.Value) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	qs := []quantity{
		{&out.Limits, corev1.ResourceMemory, "memory limit", orString(r.GetResourceMemoryLimit(), gigabytes(r.GetMemoryLimit()))},
		{&out.Requests, corev1.ResourceMemory, "memory request", orString(r.GetResourceMemoryRequest(), gigabytes(r.GetMemoryRequest()))},
		{&out.Limits, corev1.ResourceCPU, "cpu limit", orString(r.GetResourceCpuLimit(), number(r.GetCpuLimit()))},
		{&out.Requests, corev1.ResourceCPU, "cpu request", orString(r.GetResourceCpuRequest(), number(r.GetCpuRequest()))},
	}
	acc := r.GetAccelerator()
	accType, err := wholeParam(orString(acc.GetResourceType(), acc.GetType()), params)
	if err != nil {
		return out, fmt.Errorf("accelerator type: %w", err)
	}
	if accType != "" {
		count := acc.GetResourceCount()
		if count == "" && acc.GetCount() > 0 {
			count = strconv.FormatInt(acc.GetCount(), 10)
		}
		qs = append(qs, quantity{&out.Limits, corev1.ResourceName(accType), "accelerator count", count})
	}
	for _, q := range qs {
		if err := q.set(params); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (q quantity) set(params map[string]*structpb.Value) error {
	v, err := wholeParam(q.value, params)
	if err != nil || v == "" {
		return err
	}
	parsed, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Errorf("container resources: %s %q is not a quantity: %w", q.field, v, err)
	}
	if *q.list == nil {
		*q.list = corev1.ResourceList{}
	}
	(*q.list)[q.name] = parsed
	return nil
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func gigabytes(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "G"
}

func number(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// usesWorkspace: an input mentions the workspace path, or an input artifact
// was imported into the workspace.
func usesWorkspace(in *pipelinespec.ExecutorInput_Inputs) bool {
	for _, v := range in.GetParameterValues() {
		if strings.Contains(v.GetStringValue(), inputs.WorkspacePath) {
			return true
		}
	}
	for _, l := range in.GetArtifacts() {
		if a := l.GetArtifacts(); len(a) > 0 && a[0].GetMetadata().GetFields()[inputs.WorkspaceMetadataKey].GetBoolValue() {
			return true
		}
	}
	return false
}

const workspaceVolume = "kfp-workspace"

func mountWorkspace(spec *corev1.PodSpec, runName string) error {
	if runName == "" {
		return fmt.Errorf("the task uses the pipeline workspace but the run name is empty")
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: workspaceVolume, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: runName + "-" + workspaceVolume},
	}})
	main := &spec.Containers[0]
	main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: workspaceVolume, MountPath: inputs.WorkspacePath})
	return nil
}
