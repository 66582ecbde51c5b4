package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Argo's agent pod layout (workflow/controller/agent.go in Argo).
const (
	agentMain      = "main"
	tokenDir       = "/var/run/argo"
	saTokenMount   = "/var/run/secrets/kubernetes.io/serviceaccount"
	envPluginAddrs = "ARGO_PLUGIN_ADDRESSES"
	startTimeout   = 60 * time.Second
)

// agentPod is one played agent pod.
type agentPod struct {
	a        *agentPlayer
	pod      *corev1.Pod // as first seen
	ns, name string
	uid      types.UID
	workflow string
	dir      string

	mu       sync.Mutex
	sandbox  *sandbox
	procs    map[string]*proc // by container name
	stopped  bool
	finished chan struct{}
}

func newAgentPod(a *agentPlayer, pod *corev1.Pod) *agentPod {
	return &agentPod{a: a, pod: pod.DeepCopy(), ns: pod.Namespace, name: pod.Name, uid: pod.UID,
		workflow: pod.Labels["workflows.argoproj.io/workflow"], dir: a.podDir(pod),
		procs: map[string]*proc{}, finished: make(chan struct{})}
}

// run plays the pod: bind it to our node, start its sandbox, run the init
// container to completion, start the plugin sidecars and wait until they
// are ready, start main, and report the pod Running. When main exits (the
// workflow completed) the sidecars are stopped. A failure is reported as
// pod phase Failed, which the controller turns into node errors.
func (p *agentPod) run(ctx context.Context) {
	defer close(p.finished)
	err := p.start(ctx)
	if err == nil {
		err = p.waitMain(ctx)
	}
	p.stopProcs()
	if err != nil && ctx.Err() == nil {
		_ = p.a.s.setPodStatus(context.Background(), p.ns, p.name, failedStatus(p.pod, err.Error()))
	}
}

func (p *agentPod) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	if err := p.a.s.bindPod(ctx, p.pod); err != nil {
		return err
	}
	hosts, err := p.a.s.svc.hostsFile()
	if err != nil {
		return err
	}
	sb, err := startSandbox(ctx, p.dir, hosts)
	if err != nil {
		return err
	}
	p.a.addGroup(sb.holder.pid())
	if !p.setSandbox(sb) {
		return fmt.Errorf("pod deleted while starting")
	}
	if err := p.runInit(ctx); err != nil {
		return err
	}
	addrs, err := p.startSidecars(ctx)
	if err != nil {
		return err
	}
	if err := p.startMain(addrs); err != nil {
		return err
	}
	return p.a.s.setPodStatus(ctx, p.ns, p.name, runningStatus(p.pod))
}

// waitMain returns when main exits: the workflow completed (success) or
// the agent failed.
func (p *agentPod) waitMain(ctx context.Context) error {
	m := p.proc(agentMain)
	select {
	case <-m.done:
	case <-ctx.Done():
		return nil
	}
	if _, err := m.exited(); err != nil && !p.isStopped() {
		return fmt.Errorf("agent main exited: %v: %s", err, m.tail(10))
	}
	return nil
}

// terminate is the kubelet's part of a pod deletion: stop the containers,
// then remove the pod object.
func (p *agentPod) terminate(ctx context.Context) {
	p.stopProcs()
	<-p.finished
	_ = p.a.finalize(ctx, p.ns, p.name, p.uid)
}

// stopProcs stops main, then the sidecars and the init container, then
// the sandbox. Later starts are refused.
func (p *agentPod) stopProcs() {
	p.mu.Lock()
	p.stopped = true
	procs, sb := p.procs, p.sandbox
	p.mu.Unlock()
	if m := procs[agentMain]; m != nil {
		_ = m.Stop(5 * time.Second)
	}
	for _, pr := range procs {
		_ = pr.Stop(5 * time.Second)
	}
	if sb != nil {
		_ = sb.holder.Stop(time.Second)
	}
}

func (p *agentPod) setSandbox(sb *sandbox) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		_ = sb.holder.Stop(0)
		return false
	}
	p.sandbox = sb
	return true
}

func (p *agentPod) addProc(name string, pr *proc) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	p.procs[name] = pr
	return true
}

func (p *agentPod) proc(name string) *proc {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.procs[name]
}

func (p *agentPod) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

func (p *agentPod) container(name string) *corev1.Container {
	for i := range p.pod.Spec.Containers {
		if p.pod.Spec.Containers[i].Name == name {
			return &p.pod.Spec.Containers[i]
		}
	}
	return nil
}

// LogPath is where a container's output goes.
func (p *agentPod) LogPath(container string) string { return filepath.Join(p.dir, container+".log") }
