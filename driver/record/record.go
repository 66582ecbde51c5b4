// Package record is how the driver reads what a run has recorded so far,
// whichever store keeps it: ML Metadata executions (KFP 2.x) or the KFP API
// server's tasks (KFP master). Input resolution, collected loop outputs and
// oneOf branches are decided once, over these types; each store adapts its
// own records to them.
package record

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"
)

// Status is a recorded step's state, as far as resolution cares.
type Status int

// The states a step can be in. A step the launcher has not finished yet is
// Running; a condition that was false leaves Skipped.
const (
	Running Status = iota
	Succeeded
	Cached
	Failed
	Skipped
)

// Done reports whether the step produced outputs (ran or reused a cache
// entry).
func (s Status) Done() bool { return s == Succeeded || s == Cached }

// Task is one recorded step: a container or importer task, a DAG (nested
// pipeline, condition branch, loop) or a loop iteration.
type Task interface {
	// Ref is the store's identifier as text (an MLMD execution ID in
	// decimal, an API server task UUID); unique within the run.
	Ref() string
	// Label names the record in messages ("execution 12", "task 3f2c...").
	Label() string
	// StateName is the store's own name for the state, for messages.
	StateName() string
	TaskName() string
	// ParentRef is the parent DAG's Ref.
	ParentRef() string
	IsDAG() bool
	Status() Status
	IterationIndex() (int, bool)
	// IterationCount is set on a ParallelFor loop DAG.
	IterationCount() (int, bool)
	// Inputs are the resolved input parameters the driver recorded.
	Inputs() map[string]*structpb.Value
	// Outputs are the output parameters the launcher or a cache hit recorded.
	Outputs() map[string]*structpb.Value
	// OutputProducers maps a DAG's output key to its candidate producers
	// among the DAG's children (several for a oneOf).
	OutputProducers(key string, param bool) ([]Selector, error)
	// WorkspaceImporter marks an importer that placed its artifact in the
	// pipeline workspace.
	WorkspaceImporter() bool
}

// Selector is one candidate producer of a DAG output: a child task and its
// output key.
type Selector struct {
	Task string `json:"producer_subtask"`
	Key  string `json:"output_artifact_key"`
}

// Artifact is an artifact as a task sees it: its input or its output, under
// one or more keys.
type Artifact struct {
	Input    bool
	Keys     []string
	Artifact *pipelinespec.RuntimeArtifact
}

// Store reads a run's records. Implementations are bound to one run and
// one call; they need not cache.
type Store interface {
	// Children lists the children of the given DAGs, only those with one
	// of names when names are given, in one round trip.
	Children(ctx context.Context, parents []string, names ...string) ([]Task, error)
	// Artifacts reads the artifacts linked to each task, keyed by task Ref.
	Artifacts(ctx context.Context, tasks ...string) (map[string][]Artifact, error)
}

// UniqueID is a UUID-shaped ID derived from a record's name, so a repeated
// call provisions the same output URIs and renders the same patch.
func UniqueID(name string) string {
	h := sha256.Sum256([]byte(name))
	h[6] = h[6]&0x0f | 0x50 // version 5 layout: name-based
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// LogURI is where the driver log of the record named name belongs: under
// the run's pipeline root, named after the record so that every call of the
// same step agrees. "" without a pipeline root.
func LogURI(runRoot, name string) string {
	if runRoot == "" {
		return ""
	}
	return strings.TrimRight(runRoot, "/") + "/driver-logs/" + UniqueID(name) + ".log"
}

// DAGOutputs is a DAG spec's output mapping as selectors per output key.
type DAGOutputs struct {
	Parameters map[string][]Selector
	Artifacts  map[string][]Selector
}

// OutputsOf reads a DAG spec's output mapping (several selectors for a
// oneOf).
func OutputsOf(dag *pipelinespec.DagSpec) DAGOutputs {
	out := DAGOutputs{Parameters: map[string][]Selector{}, Artifacts: map[string][]Selector{}}
	for name, spec := range dag.GetOutputs().GetParameters() {
		if p := spec.GetValueFromParameter(); p != nil {
			out.Parameters[name] = []Selector{{Task: p.GetProducerSubtask(), Key: p.GetOutputParameterKey()}}
			continue
		}
		for _, p := range spec.GetValueFromOneof().GetParameterSelectors() {
			out.Parameters[name] = append(out.Parameters[name], Selector{Task: p.GetProducerSubtask(), Key: p.GetOutputParameterKey()})
		}
	}
	for name, spec := range dag.GetOutputs().GetArtifacts() {
		for _, s := range spec.GetArtifactSelectors() {
			out.Artifacts[name] = append(out.Artifacts[name], Selector{Task: s.GetProducerSubtask(), Key: s.GetOutputArtifactKey()})
		}
	}
	return out
}

// SettledState is a DAG's state from its children's, as KFP's launcher
// decides it after a task ran: Succeeded when all expected children are
// done or skipped, Failed when one failed, else Running (not settled yet).
func SettledState(children []Status, expected int) Status {
	done, failed := 0, 0
	for _, s := range children {
		switch {
		case s.Done() || s == Skipped:
			done++
		case s == Failed:
			failed++
		}
	}
	switch {
	case done == expected:
		return Succeeded
	case failed > 0:
		return Failed
	}
	return Running
}
