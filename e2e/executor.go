package e2e

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	cachepkg "github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

// executorSelector matches workflow pods other than agent pods.
const executorSelector = "workflows.argoproj.io/workflow,workflows.argoproj.io/component!=agent"

// executorTimeout bounds the stand-in's work on one pod.
const executorTimeout = time.Minute

// executorPlayer finishes the executor pods the controller creates (they
// would stay Pending forever without a kubelet): for each, the launcher
// stand-in publishes the task's outputs into MLMD from the executor input
// the driver put in the pod spec patch, then the pod is reported finished
// the way Argo's wait container and the kubelet would (a completed
// WorkflowTaskResult, then pods/status).
type executorPlayer struct {
	s     *Stack
	ctx   context.Context
	mlmd  *mlmd.Client
	cache *cachepkg.Cache
	pool  *mlmd.Pool
	tasks *mlpipeline.Pool

	mu   sync.Mutex
	seen map[types.UID]bool
	errs []error
	wg   sync.WaitGroup
}

func startExecutorPlayer(startCtx, runCtx context.Context, s *Stack) (*executorPlayer, error) {
	e := &executorPlayer{s: s, ctx: runCtx, seen: map[types.UID]bool{},
		pool: mlmd.NewPool(mlmd.Config{}), tasks: &mlpipeline.Pool{}}
	host, port, _ := net.SplitHostPort(s.svc.mlmdAddr())
	var err error
	if e.mlmd, err = e.pool.Get(mlmd.Endpoint{Host: host, Port: port}); err != nil {
		return nil, err
	}
	tc, err := e.tasks.Client(mlpipeline.Options{Address: s.svc.pipelineAddr()})
	if err != nil {
		return nil, err
	}
	e.cache = cachepkg.New(tc)
	f := informers.NewSharedInformerFactoryWithOptions(s.Cluster.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = executorSelector }))
	inf := f.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { e.observe(o) },
		UpdateFunc: func(_, o any) { e.observe(o) },
	}); err != nil {
		return nil, err
	}
	f.Start(runCtx.Done())
	if !cache.WaitForCacheSync(startCtx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("executor pod informer did not sync")
	}
	return e, nil
}

func (e *executorPlayer) observe(o any) {
	pod, ok := o.(*corev1.Pod)
	if !ok || pod.DeletionTimestamp != nil || (pod.Status.Phase != "" && pod.Status.Phase != corev1.PodPending) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen[pod.UID] || e.ctx.Err() != nil {
		return
	}
	e.seen[pod.UID] = true
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.finish(pod.DeepCopy()) }()
}

// finish runs the stand-in for one pod and reports the pod finished. A
// stand-in error fails the pod with the error as its message, so that it
// shows in `argo get`, and is kept for Errors.
func (e *executorPlayer) finish(pod *corev1.Pod) {
	ctx, cancel := context.WithTimeout(e.ctx, executorTimeout)
	defer cancel()
	b := e.s.behaviourOf(pod.Namespace)
	if b.Hold != nil {
		select {
		case <-b.Hold:
		case <-ctx.Done():
			return
		}
	}
	failed, err := e.run(ctx, pod, b)
	if ctx.Err() != nil && e.ctx.Err() != nil {
		return // the stack is stopping
	}
	code, msg := int32(0), ""
	if err != nil {
		e.record(fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err))
		code, msg = 1, "launcher stand-in: "+err.Error()
	} else if failed {
		code, msg = 1, "user code failed (Behaviour.Fail)"
	}
	if err := e.s.reportTaskResult(ctx, pod); err != nil {
		e.record(err)
	}
	if err := e.s.setPodStatus(ctx, pod.Namespace, pod.Name, finishedStatus(pod, code, msg)); err != nil {
		e.record(err)
	}
}

func (e *executorPlayer) record(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

// Errors returns the stand-in's errors so far.
func (e *executorPlayer) Errors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

func (e *executorPlayer) wait() {
	e.wg.Wait()
	_ = e.pool.Close()
	_ = e.tasks.Close()
}

// StandInErrors are the errors of the executor stand-in so far (each also
// failed its pod).
func (s *Stack) StandInErrors() []error { return s.executors.Errors() }
