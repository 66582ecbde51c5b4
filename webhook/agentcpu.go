package webhook

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// DefaultAgentCPULimit is the agent containers' CPU limit the webhook sets
// on KFP's agent pods: with Argo's 100m the agent pod took about 6.5 s
// from creation to its first call (measured: e2e.BenchmarkPipelineWallTime).
var DefaultAgentCPULimit = resource.MustParse("1")

// agentInitContainer is the init container Argo runs in an agent pod.
const agentInitContainer = "init"

// cpuLimit returns the operations raising the CPU limit of Argo's agent
// containers to p.CPULimit, and what they do. Limits already as high,
// absent (unlimited) or unreadable are left as they are.
func (p podMutator) cpuLimit(pod *agentPod) ([]patchOp, []string) {
	if p.CPULimit.IsZero() {
		return nil, nil
	}
	var ops []patchOp
	var did []string
	for _, group := range []struct {
		path, name string
		containers []agentContainer
	}{
		{"/spec/initContainers", agentInitContainer, pod.Spec.InitContainers},
		{"/spec/containers", agentMainContainer, pod.Spec.Containers},
	} {
		for i, c := range group.containers {
			if c.Name != group.name {
				continue
			}
			if op, was, ok := p.raiseCPU(fmt.Sprintf("%s/%d/resources", group.path, i), c.Resources); ok {
				ops = append(ops, op)
				did = append(did, fmt.Sprintf("%s CPU limit %s (was %s)", c.Name, p.CPULimit.String(), was))
			}
		}
	}
	return ops, did
}

// raiseCPU is the operation setting limits.cpu under path (a container's
// resources) to p.CPULimit, if the current limit is lower. No limit means
// unlimited, which is higher.
func (p podMutator) raiseCPU(path string, r *agentResources) (patchOp, string, bool) {
	if r == nil {
		return patchOp{}, "", false
	}
	cur, ok := r.Limits["cpu"]
	if !ok {
		return patchOp{}, "", false
	}
	q, err := resource.ParseQuantity(cur)
	if err != nil || q.Cmp(p.CPULimit) >= 0 {
		return patchOp{}, "", false
	}
	return patchOp{Op: "replace", Path: path + "/limits/cpu", Value: p.CPULimit.String()}, cur, true
}
