package e2e

import (
	"sync"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

// Call is one output parameter of a task's user code: what to publish for
// it when the code could not run here, or whether to replace what it
// produced when it did (Ran).
type Call struct {
	Task   string // KFP task name
	Output string // output parameter name
	Def    *pipelinespec.ComponentOutputsSpec_ParameterSpec
	// Inputs are the task's input parameter values, as resolved by the
	// driver into the executor input.
	Inputs map[string]*structpb.Value
	// Ran: the user code ran for real and produced its outputs; a value
	// returned then replaces what it produced (the case fixes a random
	// result), nil keeps it.
	Ran bool
}

// ProduceFunc gives the value user code "returns" for one output
// parameter; nil leaves the output unset (or, when Ran, as produced).
type ProduceFunc func(Call) *structpb.Value

// DefaultOutput is drivertest's default: small values of the declared
// type (strings are "<task>.<output>"); what ran keeps its outputs.
func DefaultOutput(c Call) *structpb.Value {
	if c.Ran {
		return nil
	}
	return drivertest.Default(c.Task, c.Def, c.Output)
}

// Behaviour is what a namespace's user code does where it cannot run for
// real (and which tasks fail). The zero value: every
// task succeeds with drivertest.Default outputs.
type Behaviour struct {
	// Produce gives output parameter values; nil means DefaultOutput.
	Produce ProduceFunc
	// Fail names tasks whose user code fails (main exits 1).
	Fail map[string]bool
	// FailsAsOnKFP names tasks whose real code fails here as it would on
	// KFP, with the reason: their failure is logged and their Produce
	// outputs published instead, so the rest of the case still runs.
	FailsAsOnKFP map[string]string
	// Cache makes the launcher stand-in record cache entries, as KFP's
	// launcher does. Off by default: identical tasks within one run (loop
	// iterations with equal inputs, reused components) would hit each
	// other's entries or not depending on timing, and checks must not.
	Cache bool
	// Hold, when not nil, keeps executor pods' launchers waiting until it
	// is closed (to look at a running workflow).
	Hold chan struct{}
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
