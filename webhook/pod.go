package webhook

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Labels Argo puts on the pods it creates.
const (
	componentLabel = "workflows.argoproj.io/component"
	workflowLabel  = "workflows.argoproj.io/workflow"
)

// PodMetadataSource gives the admin's current agent pod metadata.
type PodMetadataSource interface {
	PodMetadata() (pluginconfig.PodMetadata, error)
}

// agentPod is the part of a pod the mutation reads.
type agentPod struct {
	Metadata struct {
		Name         string            `json:"name"`
		GenerateName string            `json:"generateName"`
		Namespace    string            `json:"namespace"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		InitContainers []agentContainer `json:"initContainers"`
		Containers     []agentContainer `json:"containers"`
	} `json:"spec"`
}

type agentContainer struct {
	Name      string          `json:"name"`
	Env       []agentEnv      `json:"env"`
	Resources *agentResources `json:"resources"`
}

type agentResources struct {
	Limits map[string]string `json:"limits"`
}

type agentEnv struct {
	Name      string          `json:"name"`
	Value     string          `json:"value,omitempty"`
	ValueFrom json.RawMessage `json:"valueFrom,omitempty"`
}

// AgentPods is what the webhook does to Argo's agent pods that run the
// driver plugin.
type AgentPods struct {
	// Metadata: the admin's labels and annotations, added where the pod
	// lacks the key (reserved keys never).
	Metadata PodMetadataSource
	// PatchRate caps the agent's ARGO_AGENT_PATCH_RATE: how long it may hold
	// a plugin's answer before writing it to the WorkflowTaskSet (Argo
	// passes DEFAULT_REQUEUE_TIME, 10 s by default, which adds up to 10 s to
	// every driver step). A faster rate the pod already has is kept; 0
	// leaves the pod's rate alone.
	PatchRate time.Duration
	// CPULimit raises the CPU limit of Argo's own agent containers (init
	// and main) to at least this: Argo gives them 100m, under which
	// argoexec takes seconds to start and to relay each answer. A higher
	// limit the pod already has is kept; zero leaves the limits alone.
	CPULimit resource.Quantity
}

// DefaultAgentPatchRate: a driver step's answer reaches Argo within a
// quarter second (measured: BenchmarkPipelineWallTime in e2e).
const DefaultAgentPatchRate = 250 * time.Millisecond

// Argo's agent: its container and the variable it reads its patch rate from.
const (
	agentMainContainer = "main"
	agentPatchRateEnv  = "ARGO_AGENT_PATCH_RATE"
)

// podMutator applies AgentPods to an admitted pod.
type podMutator struct{ AgentPods }

func (p podMutator) mutate(namespace string, pod *agentPod) mutation {
	who := p.name(namespace, pod)
	if pod.Metadata.Labels[componentLabel] != "agent" || !pod.hasContainer(pluginconfig.ContainerName) {
		return mutation{outcome: outcomeUnchanged, log: fmt.Sprintf("pod %s: not an agent pod with the %s sidecar", who, pluginconfig.ContainerName)}
	}
	ops, did := p.patchRate(pod)
	cpuOps, cpuDid := p.cpuLimit(pod)
	ops, did = append(ops, cpuOps...), append(did, cpuDid...)
	m := mutation{outcome: outcomeUnchanged}
	md, err := p.Metadata.PodMetadata()
	if err != nil {
		m.outcome = outcomeInvalid
		m.warnings = []string{fmt.Sprintf("kfp-driver-plugin: agent pod metadata not added: %v", err)}
		did = append(did, fmt.Sprintf("no metadata added: %v", err))
	} else {
		labels := allowed(missing(pod.Metadata.Labels, md.Labels))
		annotations := allowed(missing(pod.Metadata.Annotations, md.Annotations))
		ops = append(ops, addKeys("/metadata/labels", pod.Metadata.Labels != nil, labels)...)
		ops = append(ops, addKeys("/metadata/annotations", pod.Metadata.Annotations != nil, annotations)...)
		if len(labels)+len(annotations) > 0 {
			did = append(did, fmt.Sprintf("added labels [%s] annotations [%s]",
				strings.Join(slices.Sorted(maps.Keys(labels)), " "), strings.Join(slices.Sorted(maps.Keys(annotations)), " ")))
		}
	}
	if len(ops) > 0 && m.outcome == outcomeUnchanged {
		m.outcome = outcomePatched
	}
	if len(did) == 0 {
		did = []string{"nothing to change"}
	}
	m.patch, m.log = ops, fmt.Sprintf("pod %s: %s", who, strings.Join(did, "; "))
	return m
}

// patchRate returns the operations setting the agent's patch rate to
// p.PatchRate, and what they do, unless the pod's is already as fast, set
// from a reference, or the pod has no agent container.
func (p podMutator) patchRate(pod *agentPod) ([]patchOp, []string) {
	if p.PatchRate <= 0 {
		return nil, nil
	}
	want := p.PatchRate.String()
	for i, c := range pod.Spec.Containers {
		if c.Name != agentMainContainer {
			continue
		}
		did := []string{fmt.Sprintf("%s=%s", agentPatchRateEnv, want)}
		for j, e := range c.Env {
			if e.Name != agentPatchRateEnv {
				continue
			}
			if d, err := time.ParseDuration(e.Value); len(e.ValueFrom) > 0 || (err == nil && d <= p.PatchRate) {
				return nil, nil
			}
			did[0] += " (was " + strconv.Quote(e.Value) + ")"
			return []patchOp{{Op: "replace", Path: fmt.Sprintf("/spec/containers/%d/env/%d/value", i, j), Value: want}}, did
		}
		env := agentEnv{Name: agentPatchRateEnv, Value: want}
		if c.Env == nil {
			return []patchOp{{Op: "add", Path: fmt.Sprintf("/spec/containers/%d/env", i), Value: []agentEnv{env}}}, did
		}
		return []patchOp{{Op: "add", Path: fmt.Sprintf("/spec/containers/%d/env/-", i), Value: env}}, did
	}
	return nil, nil
}

func (p podMutator) name(namespace string, pod *agentPod) string {
	meta := map[string]any{"namespace": pod.Metadata.Namespace, "name": pod.Metadata.Name, "generateName": pod.Metadata.GenerateName}
	who := objectName(namespace, meta)
	if wf := pod.Metadata.Labels[workflowLabel]; wf != "" {
		who += " (workflow " + wf + ")"
	}
	return who
}

func (pod *agentPod) hasContainer(name string) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// allowed drops reserved keys. pluginconfig.ReadPodMetadata drops them
// already; checked again because a source is an interface.
func allowed(m map[string]string) map[string]string {
	maps.DeleteFunc(m, func(k, _ string) bool { return pluginconfig.IsReserved(k) })
	return m
}
