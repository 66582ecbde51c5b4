package webhook

import (
	"fmt"
	"maps"
	"slices"
	"strings"

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
		Containers []struct {
			Name string `json:"name"`
		} `json:"containers"`
	} `json:"spec"`
}

// podMutator adds the admin's labels and annotations to Argo's agent pods
// that run the driver plugin; keys the pod has keep their values and
// reserved keys are never added.
type podMutator struct {
	source PodMetadataSource
}

func (p podMutator) mutate(namespace string, pod *agentPod) mutation {
	who := p.name(namespace, pod)
	if pod.Metadata.Labels[componentLabel] != "agent" || !pod.hasContainer(pluginconfig.ContainerName) {
		return mutation{outcome: outcomeUnchanged, log: fmt.Sprintf("pod %s: not an agent pod with the %s sidecar", who, pluginconfig.ContainerName)}
	}
	md, err := p.source.PodMetadata()
	if err != nil {
		return mutation{outcome: outcomeInvalid, log: fmt.Sprintf("pod %s: no metadata added: %v", who, err),
			warnings: []string{fmt.Sprintf("kfp-driver-plugin: agent pod metadata not added: %v", err)}}
	}
	labels := allowed(missing(pod.Metadata.Labels, md.Labels))
	annotations := allowed(missing(pod.Metadata.Annotations, md.Annotations))
	ops := append(addKeys("/metadata/labels", pod.Metadata.Labels != nil, labels),
		addKeys("/metadata/annotations", pod.Metadata.Annotations != nil, annotations)...)
	if len(ops) == 0 {
		return mutation{outcome: outcomeUnchanged, log: fmt.Sprintf("pod %s: no agent pod metadata to add", who)}
	}
	return mutation{outcome: outcomePatched, patch: ops, log: fmt.Sprintf("pod %s: added labels [%s] annotations [%s]",
		who, strings.Join(slices.Sorted(maps.Keys(labels)), " "), strings.Join(slices.Sorted(maps.Keys(annotations)), " "))}
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
