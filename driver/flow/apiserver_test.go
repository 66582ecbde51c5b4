package flow_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
)

// apiEnv is a driver whose Kubernetes API is a real kube-apiserver, reached
// through kube.Client as in production; MLMD and the task cache are the
// usual in-process servers.
type apiEnv struct {
	*drivertest.Env
	cluster   *testenv.Cluster
	namespace string
}

// startAPIEnv starts a control plane (skipped without the tools, see
// internal/testenv) and a driver on it; walks run in namespace.
func startAPIEnv(t *testing.T, namespace string) *apiEnv {
	t.Helper()
	c := testenv.StartCluster(t)
	if err := c.EnsureNamespace(context.Background(), namespace); err != nil {
		t.Fatal(err)
	}
	k, err := kube.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	return &apiEnv{Env: drivertest.NewEnvWith(t, k), cluster: c, namespace: namespace}
}

// walker is env.Walker in the env's namespace, every call made twice.
func (e *apiEnv) walker(p *drivertest.Pipeline, runID string) *drivertest.Walker {
	w := e.Walker(p, runID)
	w.Base.Namespace = e.namespace
	w.Produce = drivertest.Produce
	w.Repeat = true
	return w
}

// platformSpec loads one of the 17 kfp-kubernetes snapshot specs.
func platformSpec(t *testing.T, file string) *drivertest.Pipeline {
	t.Helper()
	p, err := drivertest.Load(filepath.Join(platformSpecDir, file))
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	return p
}

const platformSpecDir = "../platform/testdata/kubernetes-platform-specs"

// setInputs sets constant inputs of a root task the way the KFP SDK
// compiles arguments (runtimeValue.constant); nil removes an input.
func setInputs(t *testing.T, p *drivertest.Pipeline, task string, in map[string]any) {
	t.Helper()
	spec := p.Spec.GetRoot().GetDag().GetTasks()[task]
	if spec == nil {
		t.Fatalf("no task %q", task)
	}
	params := spec.GetInputs().GetParameters()
	for k, v := range in {
		if v == nil {
			delete(params, k)
			continue
		}
		val, err := structpb.NewValue(v)
		if err != nil {
			t.Fatal(err)
		}
		params[k] = &pipelinespec.TaskInputsSpec_InputParameterSpec{
			Kind: &pipelinespec.TaskInputsSpec_InputParameterSpec_RuntimeValue{
				RuntimeValue: &pipelinespec.ValueOrRuntimeParameter{
					Value: &pipelinespec.ValueOrRuntimeParameter_Constant{Constant: val},
				},
			},
		}
	}
}
