package e2e

import (
	"sync"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// ProduceFunc gives the value user code "returns" for output parameter
// name of task; nil leaves the output unset.
type ProduceFunc func(task string, def *pipelinespec.ComponentOutputsSpec_ParameterSpec, name string) *structpb.Value

// Behaviour is what a namespace's played pods do. The zero value: every
// task succeeds with drivertest.Default outputs.
type Behaviour struct {
	// Produce gives output parameter values; nil means drivertest.Default.
	Produce ProduceFunc
	// Fail names tasks whose user code fails (main exits 1).
	Fail map[string]bool
	// Hold, when not nil, keeps executor pods pending until it is closed
	// (to look at a running workflow).
	Hold chan struct{}
	// WrongPluginToken starts the sidecar with a token other than the one
	// Argo's agent sends.
	WrongPluginToken bool
}

type behaviours struct {
	mu sync.Mutex
	m  map[string]Behaviour
}

// SetBehaviour sets what pods in namespace ns do; call it before
// submitting.
func (s *Stack) SetBehaviour(ns string, b Behaviour) {
	s.behaviour.mu.Lock()
	defer s.behaviour.mu.Unlock()
	if s.behaviour.m == nil {
		s.behaviour.m = map[string]Behaviour{}
	}
	s.behaviour.m[ns] = b
}

func (s *Stack) behaviourOf(ns string) Behaviour {
	s.behaviour.mu.Lock()
	defer s.behaviour.mu.Unlock()
	return s.behaviour.m[ns]
}
