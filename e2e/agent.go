package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// agentSelector matches the agent pods the controller creates.
const agentSelector = "workflows.argoproj.io/component=agent"

// agentPlayer runs every agent pod the controller creates on the host:
// it is the kubelet for them (see agentPod.run).
type agentPlayer struct {
	s   *Stack
	ctx context.Context // ends when the stack stops

	mu     sync.Mutex
	pods   map[types.UID]*agentPod
	groups []int // every process group started, for the final check
	wg     sync.WaitGroup
}

func startAgentPlayer(startCtx, runCtx context.Context, s *Stack) (*agentPlayer, error) {
	a := &agentPlayer{s: s, ctx: runCtx, pods: map[types.UID]*agentPod{}}
	f := informers.NewSharedInformerFactoryWithOptions(s.Cluster.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = agentSelector }))
	inf := f.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { a.observe(o) },
		UpdateFunc: func(_, o any) { a.observe(o) },
		DeleteFunc: func(o any) { a.deleted(o) },
	})
	if err != nil {
		return nil, err
	}
	f.Start(runCtx.Done())
	if !cache.WaitForCacheSync(startCtx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("agent pod informer did not sync")
	}
	return a, nil
}

// observe starts playing a new pod, and finishes a pod being deleted (the
// controller deletes the agent pod when the workflow completes).
func (a *agentPlayer) observe(o any) {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p, known := a.pods[pod.UID]
	switch {
	case !known && pod.DeletionTimestamp == nil && a.ctx.Err() == nil:
		p = newAgentPod(a, pod)
		a.pods[pod.UID] = p
		a.wg.Add(1)
		go func() { defer a.wg.Done(); p.run(a.ctx) }()
	case known && pod.DeletionTimestamp != nil:
		a.wg.Add(1)
		go func() { defer a.wg.Done(); p.terminate(a.ctx) }()
	}
}

func (a *agentPlayer) deleted(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	a.mu.Lock()
	p := a.pods[pod.UID]
	a.mu.Unlock()
	if p != nil {
		p.stopProcs()
	}
}

func (a *agentPlayer) addGroup(pgid int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.groups = append(a.groups, pgid)
}

func (a *agentPlayer) pgids() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.groups...)
}

// Pod returns the played agent pod of workflow wf in ns, nil if none.
func (a *agentPlayer) pod(ns, wf string) *agentPod {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.pods {
		if p.ns == ns && p.workflow == wf {
			return p
		}
	}
	return nil
}

// stopAll stops every played pod (the stack's context is already
// cancelled, so no new one starts) and waits for the players.
func (a *agentPlayer) stopAll() error {
	a.mu.Lock()
	pods := make([]*agentPod, 0, len(a.pods))
	for _, p := range a.pods {
		pods = append(pods, p)
	}
	a.mu.Unlock()
	for _, p := range pods {
		p.stopProcs()
	}
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("agent pod players still running 30s after stop")
	}
}

// podDir is where a played pod keeps its files and logs.
func (a *agentPlayer) podDir(pod *corev1.Pod) string {
	return filepath.Join(a.s.Dir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)[:8])
}

// finalize deletes a terminating pod for good, as the kubelet does once
// its containers are gone.
func (a *agentPlayer) finalize(ctx context.Context, ns, name string, uid types.UID) error {
	zero := int64(0)
	err := a.s.Cluster.Client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// AgentLog returns what container of the played agent pod of workflow wf
// in ns wrote, without timestamps.
func (s *Stack) AgentLog(ns, wf, container string) (string, error) {
	p := s.agents.pod(ns, wf)
	if p == nil {
		return "", fmt.Errorf("no agent pod was played for workflow %s/%s", ns, wf)
	}
	var b strings.Builder
	if err := copyLog(&b, p.LogPath(container), false); err != nil {
		return "", err
	}
	return b.String(), nil
}
