package e2e

import (
	"context"
	"fmt"

	"github.com/argoproj/argo-workflows/v3/pkg/apis/workflow"
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations Argo puts on workflow pods and task results.
const (
	labelWorkflow        = "workflows.argoproj.io/workflow"
	labelOutputsReported = "workflows.argoproj.io/report-outputs-completed"
	annotationNodeID     = "workflows.argoproj.io/node-id"
)

// reportTaskResult does what Argo's wait container does when the main
// container ends: a WorkflowTaskResult named after the node, marked
// complete. KFP's executor templates declare no outputs, so it carries
// none; without it the controller waits for the node's outputs forever.
func (s *Stack) reportTaskResult(ctx context.Context, pod *corev1.Pod) error {
	nodeID := pod.Annotations[annotationNodeID]
	wfName := pod.Labels[labelWorkflow]
	if nodeID == "" || wfName == "" {
		return fmt.Errorf("pod %s/%s: no node id or workflow label", pod.Namespace, pod.Name)
	}
	var owner metav1.OwnerReference
	for _, ref := range pod.OwnerReferences {
		if ref.Kind == workflow.WorkflowKind {
			owner = metav1.OwnerReference{APIVersion: workflow.APIVersion, Kind: ref.Kind, Name: ref.Name, UID: ref.UID}
		}
	}
	tr := &wfv1.WorkflowTaskResult{ObjectMeta: metav1.ObjectMeta{
		Name: nodeID, Namespace: pod.Namespace,
		Labels:          map[string]string{labelWorkflow: wfName, labelOutputsReported: "true"},
		OwnerReferences: []metav1.OwnerReference{owner},
	}}
	_, err := s.Workflows.ArgoprojV1alpha1().WorkflowTaskResults(pod.Namespace).Create(ctx, tr, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("task result %s/%s: %w", pod.Namespace, nodeID, err)
	}
	return nil
}
