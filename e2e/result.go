package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/standin"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// Result is a completed workflow with what ran in it, read back from Argo
// (node inputs), the cluster (the executor pods as created) and MLMD.
type Result struct {
	Workflow *wfv1.Workflow
	// Launches are the container tasks that ran, one per executor pod, in
	// node start order.
	Launches []*Launched
	// Kube reads the cluster as admin.
	Kube kubernetes.Interface
	// RanUserCode are the tasks whose user command ran for real in their
	// executor pod (the launcher stand-in could run it).
	RanUserCode []string
}

// Launched is one container task that ran.
type Launched struct {
	Task      string // the KFP task name (the MLMD execution's task_name)
	Node      wfv1.NodeStatus
	Patch     string // the pod spec patch the CONTAINER driver returned
	Launch    *drivertest.Launch
	Execution *mlmd.Execution // as the launcher stand-in left it (KFP 2.x line)
	// APITask is the API server task it ran as (native line), read back
	// after the run; TaskID names it.
	APITask *pb.PipelineTask
	TaskID  string
	Pod     *corev1.Pod // the executor pod Argo created from the patch
	// Container is its main container as seen from inside.
	Container *standin.ContainerReport
}

// Result reads back everything that ran in wf.
func (s *Stack) Result(ctx context.Context, wf *wfv1.Workflow) (*Result, error) {
	pods, err := s.workflowPods(ctx, wf)
	if err != nil {
		return nil, err
	}
	r := &Result{Workflow: wf, Kube: s.Cluster.Client, RanUserCode: s.RanUserCode(wf.Namespace)}
	for _, n := range sortedNodes(wf) {
		patch := inputParam(n, "pod-spec-patch")
		if n.Type != wfv1.NodeTypePod || patch == "" {
			continue
		}
		l, err := s.launched(ctx, n, patch)
		if err != nil {
			return nil, err
		}
		l.Pod = pods[n.ID]
		switch {
		case l.TaskID != "":
			l.Container = s.Container(launchKey(0, l.TaskID))
		case l.Execution != nil:
			l.Container = s.Container(launchKey(l.Execution.ID(), ""))
		}
		r.Launches = append(r.Launches, l)
	}
	return r, nil
}

func (s *Stack) launched(ctx context.Context, n wfv1.NodeStatus, patch string) (*Launched, error) {
	if launch, flags, ok, err := nativeLaunched(patch); err != nil || ok {
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		t, err := s.APITask(ctx, launch.RunID, flags["--task_id"])
		if err != nil {
			return nil, fmt.Errorf("node %s: task %s: %w", n.Name, flags["--task_id"], err)
		}
		return &Launched{Task: flags["--task_name"], Node: n, Patch: patch, Launch: launch, APITask: t, TaskID: t.GetTaskId()}, nil
	}
	launch, err := drivertest.ParseLaunch(patch)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	exec, err := s.mlmd.ExecutionByID(ctx, launch.ExecutionID)
	if err != nil {
		return nil, fmt.Errorf("node %s: execution %d: %w", n.Name, launch.ExecutionID, err)
	}
	return &Launched{Task: exec.TaskName(), Node: n, Patch: patch, Launch: launch, Execution: exec}, nil
}

// workflowPods maps node IDs to the workflow's pods.
func (s *Stack) workflowPods(ctx context.Context, wf *wfv1.Workflow) (map[string]*corev1.Pod, error) {
	return podsByNode(ctx, s.Cluster.Client, wf)
}

// podsByNode maps node IDs to wf's pods, read with kube.
func podsByNode(ctx context.Context, kube kubernetes.Interface, wf *wfv1.Workflow) (map[string]*corev1.Pod, error) {
	list, err := kube.CoreV1().Pods(wf.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + wf.Name})
	if err != nil {
		return nil, err
	}
	out := map[string]*corev1.Pod{}
	for i := range list.Items {
		out[list.Items[i].Annotations[annotationNodeID]] = &list.Items[i]
	}
	return out, nil
}

func sortedNodes(wf *wfv1.Workflow) []wfv1.NodeStatus {
	nodes := make([]wfv1.NodeStatus, 0, len(wf.Status.Nodes))
	for _, n := range wf.Status.Nodes {
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool {
		if !nodes[i].StartedAt.Equal(&nodes[j].StartedAt) {
			return nodes[i].StartedAt.Before(&nodes[j].StartedAt)
		}
		return nodes[i].Name < nodes[j].Name
	})
	return nodes
}

func inputParam(n wfv1.NodeStatus, name string) string {
	if n.Inputs == nil {
		return ""
	}
	for _, p := range n.Inputs.Parameters {
		if p.Name == name {
			return p.GetValue()
		}
	}
	return ""
}

// Of returns the launches of one task (several in loops).
func (r *Result) Of(task string) []*Launched {
	var out []*Launched
	for _, l := range r.Launches {
		if l.Task == task {
			out = append(out, l)
		}
	}
	return out
}

// Tasks lists the tasks that ran, sorted, for failure messages.
func (r *Result) Tasks() []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range r.Launches {
		if !seen[l.Task] {
			seen[l.Task] = true
			out = append(out, l.Task)
		}
	}
	sort.Strings(out)
	return out
}

// DriverNodes are the plugin nodes (the converted driver templates).
func (r *Result) DriverNodes() []wfv1.NodeStatus {
	var out []wfv1.NodeStatus
	for _, n := range sortedNodes(r.Workflow) {
		if n.Type == wfv1.NodeTypePlugin {
			out = append(out, n)
		}
	}
	return out
}

// DriverNode returns the plugin node whose display name is name (e.g.
// "add-numbers-driver"), or nil.
func (r *Result) DriverNode(name string) *wfv1.NodeStatus {
	for _, n := range r.DriverNodes() {
		if n.DisplayName == name {
			return &n
		}
	}
	return nil
}

// Output returns a node's output parameter.
func Output(n *wfv1.NodeStatus, name string) string {
	if n == nil || n.Outputs == nil {
		return ""
	}
	for _, p := range n.Outputs.Parameters {
		if p.Name == name {
			return p.GetValue()
		}
	}
	return ""
}

// String summarises what ran.
func (r *Result) String() string {
	return fmt.Sprintf("%s %s: ran %s", r.Workflow.Name, r.Workflow.Status.Phase, strings.Join(r.Tasks(), ", "))
}

// Argo's pod labels, annotations and container names.
const (
	labelWorkflow    = "workflows.argoproj.io/workflow"
	annotationNodeID = "workflows.argoproj.io/node-id"
	agentMain        = "main"
)

// FailedNodes lists the nodes that failed, one line each, with Argo's
// message (a driver's decision or a pod's exit reason).
func FailedNodes(wf *wfv1.Workflow) string {
	var b strings.Builder
	for _, n := range sortedNodes(wf) {
		if n.Phase == wfv1.NodeFailed || n.Phase == wfv1.NodeError {
			fmt.Fprintf(&b, "failed node %s (%s, template %s): %s\n", n.DisplayName, n.Type, n.TemplateName, n.Message)
		}
	}
	return b.String()
}

// stepTree keeps the node tree of `argo get` output: its header repeats
// every component's JSON as a parameter.
func stepTree(argoGet string) string {
	if i := strings.Index(argoGet, "STEP"); i > 0 {
		argoGet = argoGet[i:]
	}
	// Its columns are padded to the widest message: drop the padding.
	lines := strings.Split(argoGet, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// FailedPodLogs is the tail of the main container's log of every pod of wf
// that failed: what a user would look at next (`argo logs`), printed with a
// failed case.
func (s *Stack) FailedPodLogs(ctx context.Context, wf *wfv1.Workflow) string {
	pods, err := s.workflowPods(ctx, wf)
	if err != nil {
		return "listing pods: " + err.Error()
	}
	var b strings.Builder
	tail := int64(20)
	for _, n := range sortedNodes(wf) {
		p := pods[n.ID]
		if n.Type != wfv1.NodeTypePod || p == nil || (n.Phase != wfv1.NodeFailed && n.Phase != wfv1.NodeError) {
			continue
		}
		logs, err := s.Cluster.Client.CoreV1().Pods(wf.Namespace).GetLogs(p.Name,
			&corev1.PodLogOptions{Container: agentMain, TailLines: &tail}).DoRaw(ctx)
		if err != nil {
			logs = []byte(err.Error())
		}
		fmt.Fprintf(&b, "----- %s (%s): %s\n", p.Name, n.DisplayName, containerStates(p))
		fmt.Fprintf(&b, "main:\n%s\n", logs)
	}
	return b.String()
}

// containerStates says how each container of p ended.
func containerStates(p *corev1.Pod) string {
	var parts []string
	for _, c := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		st := "running or waiting"
		if t := c.State.Terminated; t != nil {
			st = fmt.Sprintf("exit %d %s %s", t.ExitCode, t.Reason, strings.TrimSpace(t.Message))
		} else if w := c.State.Waiting; w != nil {
			st = "waiting: " + w.Reason + " " + w.Message
		}
		parts = append(parts, c.Name+" "+st)
	}
	return strings.Join(parts, "; ")
}
