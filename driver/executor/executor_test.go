package executor

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

func params(m map[string]any) map[string]*structpb.Value {
	out := map[string]*structpb.Value{}
	for k, v := range m {
		out[k], _ = structpb.NewValue(v)
	}
	return out
}

func TestResolveArgs(t *testing.T) {
	p := params(map[string]any{"msg": "hi", "n": 3.0, "f": 1.5, "l": []any{"a", 1.0}, "none": nil})
	got, err := resolveArgs([]string{
		"echo {{$.inputs.parameters['msg']}} x{{$.inputs.parameters['n']}}",
		"{{$.inputs.parameters['f']}}", "{{$.inputs.parameters['l']}}", "{{$.inputs.parameters['none']}}",
		"{{$.outputs.parameters['o'].output_file}}", "{{$}}",
		`{"IfPresent": {"InputName": "msg", "Then": ["--msg", "{{$.inputs.parameters['msg']}}"], "Else": "no"}}`,
		`{"IfPresent": {"InputName": "none", "Then": ["--none"], "Else": "absent"}}`,
		`{"IfPresent": {"InputName": "missing", "Then": ["--m"]}}`,
	}, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"echo hi x3", "1.5", `["a",1]`, "", "{{$.outputs.parameters['o'].output_file}}", "{{$}}", "--msg", "hi", "absent"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resolveArgs =\n%q\nwant\n%q", got, want)
	}
	if _, err := resolveArgs([]string{"{{$.inputs.parameters['nope']}}"}, p); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing parameter: err = %v", err)
	}
	if _, err := resolveArgs([]string{`{"IfPresent": {"InputName": "msg", "Then": 5}}`}, p); err == nil {
		t.Error("IfPresent with a number branch: want an error")
	}
}

func TestOutputsAndLocalPaths(t *testing.T) {
	comp := &pipelinespec.ComponentSpec{OutputDefinitions: &pipelinespec.ComponentOutputsSpec{
		Artifacts:  map[string]*pipelinespec.ComponentOutputsSpec_ArtifactSpec{"model": {ArtifactType: &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: "system.Model"}}}},
		Parameters: map[string]*pipelinespec.ComponentOutputsSpec_ParameterSpec{"Output": {ParameterType: pipelinespec.ParameterType_STRING}},
	}}
	out := Outputs(comp, "minio://b/root/p/r?region=x", "train", "u1", true)
	if got := out.Artifacts["model"].Artifacts[0].Uri; got != "minio://b/root/p/r/train/u1/model" {
		t.Errorf("model URI %s", got)
	}
	if out.Artifacts[LogsArtifact] == nil || out.Parameters["Output"].OutputFile != "/tmp/kfp/outputs/Output" {
		t.Errorf("outputs %v", out)
	}
	if out.OutputFile != "/minio/b/root/p/r/train/u1/output_metadata.json" {
		t.Errorf("output file %s", out.OutputFile)
	}
	for uri, want := range map[string]string{"gs://b/x": "/gcs/b/x", "s3://b/x": "/s3/b/x", "oci://reg/img": "/oci/reg_img/models", "file:///x": "/tmp/kfp_outputs"} {
		if got := localPath(uri); got != want {
			t.Errorf("localPath(%s) = %s, want %s", uri, got, want)
		}
	}
}

func TestPodSpecResources(t *testing.T) {
	ctr := &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{
		Image: "{{$.inputs.parameters['img']}}", Command: []string{"run"},
		Resources: &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec_ResourceSpec{
			CpuLimit: 2, MemoryLimit: 0.65, ResourceMemoryRequest: "{{$.inputs.parameters['mem']}}",
			Accelerator: &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec_ResourceSpec_AcceleratorConfig{Type: "nvidia.com/gpu", Count: 2},
		},
		Env: []*pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec_EnvVar{{Name: "A", Value: "1"}},
	}
	in := &pipelinespec.ExecutorInput{Inputs: &pipelinespec.ExecutorInput_Inputs{ParameterValues: params(map[string]any{"img": "repo/img:1", "mem": "1Gi"})}}
	spec, err := PodSpec(Task{Input: in, Container: ctr, Options: driver.Options{HTTPSProxy: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	main := spec.Containers[0]
	lim, req := main.Resources.Limits, main.Resources.Requests
	gpu := lim["nvidia.com/gpu"]
	if main.Image != "repo/img:1" || lim.Cpu().String() != "2" || lim.Memory().String() != "650M" || req.Memory().String() != "1Gi" || gpu.String() != "2" {
		t.Errorf("image %s limits %v requests %v", main.Image, lim, req)
	}
	if len(main.Env) != 3 || main.Env[1].Name != "https_proxy" {
		t.Errorf("env %v", main.Env)
	}
	ctr.Resources.ResourceCpuLimit = "lots"
	if _, err := PodSpec(Task{Input: in, Container: ctr}); err == nil || !strings.Contains(err.Error(), "cpu limit") {
		t.Errorf("bad quantity: err = %v", err)
	}
	cmd, err := MLMDCommand(Launcher{PipelineName: "p", RunID: "r", ExecutionID: 9, Input: in, Component: &pipelinespec.ComponentSpec{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := SetCommand(spec, cmd); err != nil {
		t.Fatal(err)
	}
	patch, err := Patch(spec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ExecutorInput(patch)
	if err != nil || back.GetInputs().GetParameterValues()["img"].GetStringValue() != "repo/img:1" {
		t.Fatalf("executor input round trip: %v %v", back, err)
	}
}

func TestModelcar(t *testing.T) {
	in := &pipelinespec.ExecutorInput{Inputs: &pipelinespec.ExecutorInput_Inputs{Artifacts: map[string]*pipelinespec.ArtifactList{
		"model": {Artifacts: []*pipelinespec.RuntimeArtifact{{Name: "3", Uri: "oci://registry.example/models/m:1"}}},
		"data":  {Artifacts: []*pipelinespec.RuntimeArtifact{{Name: "4", Uri: "s3://b/d"}}},
	}}}
	spec, err := PodSpec(Task{Input: in, Container: &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{Image: "i"}})
	if err != nil {
		t.Fatal(err)
	}
	if spec.ShareProcessNamespace == nil || !*spec.ShareProcessNamespace || len(spec.InitContainers) != 1 || len(spec.Containers) != 2 {
		t.Fatalf("modelcar pod: %+v", spec)
	}
	m := spec.Containers[0].VolumeMounts[0]
	if m.MountPath != "/oci/registry.example_models_m:1" || m.SubPath != "registry.example_models_m:1" || spec.Containers[1].Image != "registry.example/models/m:1" {
		t.Errorf("mount %+v, sidecar image %s", m, spec.Containers[1].Image)
	}
	if !strings.Contains(spec.Containers[1].Command[2], "/oci/registry.example_models_m:1/launcher-complete") {
		t.Errorf("sidecar command %q", spec.Containers[1].Command)
	}
}
