// Package drivertest runs real KFP pipeline specs through a driver.Driver
// the way Argo would call it, with a stand-in for KFP's launcher that
// publishes each container task's outputs as the real one does: to MLMD
// (KFP 2.x), or through the KFP API server's task and artifact APIs on the
// native line (KFP master; NewNativeEnv, NativeLauncher). It
// is test support: the driver's own tests use it directly, the plugin's
// tests can drive the same walks through the HTTP handler (Walker.Driver is
// any driver.Driver).
package drivertest

import (
	"bytes"
	"fmt"
	"os"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"
)

// Pipeline is a compiled KFP pipeline: the spec, its executors and the
// kfp-kubernetes config per executor label (as protojson, as the compiler
// passes it to the driver).
type Pipeline struct {
	Spec       *pipelinespec.PipelineSpec
	Executors  map[string]*pipelinespec.PipelineDeploymentConfig_ExecutorSpec
	Kubernetes map[string][]byte
}

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

// Load reads a pipeline YAML file (the spec, then an optional platform
// document).
func Load(path string) (*Pipeline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes pipeline YAML.
func Parse(b []byte) (*Pipeline, error) {
	docs := bytes.Split(b, []byte("\n---\n"))
	p := &Pipeline{Spec: &pipelinespec.PipelineSpec{}, Kubernetes: map[string][]byte{}}
	if err := unmarshalYAML(docs[0], p.Spec); err != nil {
		return nil, fmt.Errorf("pipeline spec: %w", err)
	}
	deploy := &pipelinespec.PipelineDeploymentConfig{}
	if err := structInto(p.Spec.GetDeploymentSpec(), deploy); err != nil {
		return nil, fmt.Errorf("deploymentSpec: %w", err)
	}
	p.Executors = deploy.GetExecutors()
	for _, doc := range docs[1:] {
		if err := p.addPlatform(doc); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Pipeline) addPlatform(doc []byte) error {
	ps := &pipelinespec.PlatformSpec{}
	if err := unmarshalYAML(doc, ps); err != nil {
		return fmt.Errorf("platform spec: %w", err)
	}
	k8s := ps.GetPlatforms()["kubernetes"].GetDeploymentSpec().GetExecutors()
	for label, cfg := range k8s {
		b, err := protojson.Marshal(cfg)
		if err != nil {
			return err
		}
		p.Kubernetes[label] = b
	}
	return nil
}

// KubernetesConfig decodes the executor's kfp-kubernetes config; nil when
// it has none.
func (p *Pipeline) KubernetesConfig(label string) (*kubernetesplatform.KubernetesExecutorConfig, []byte, error) {
	raw, ok := p.Kubernetes[label]
	if !ok {
		return nil, nil, nil
	}
	cfg := &kubernetesplatform.KubernetesExecutorConfig{}
	if err := lenient.Unmarshal(raw, cfg); err != nil {
		return nil, nil, fmt.Errorf("kubernetes config of %s: %w", label, err)
	}
	return cfg, raw, nil
}

func unmarshalYAML(doc []byte, m proto.Message) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	return lenient.Unmarshal(j, m)
}

func structInto(s *structpb.Struct, m proto.Message) error {
	if s == nil {
		return nil
	}
	j, err := protojson.Marshal(s)
	if err != nil {
		return err
	}
	return lenient.Unmarshal(j, m)
}
