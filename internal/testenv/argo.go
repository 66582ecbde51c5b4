package testenv

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ArgoConfigMap is the ConfigMap the workflow-controller refuses to start
// without.
const ArgoConfigMap = "workflow-controller-configmap"

// argoReadyLog is logged by the controller right after its informer caches
// have synced and before its workers start: the earliest "it works" signal.
const argoReadyLog = "Performing periodic GC"

// ArgoOptions configures StartArgo.
type ArgoOptions struct {
	// Namespace the controller runs in (its ConfigMap and plugin ConfigMaps
	// live there); created if missing. Default "argo".
	Namespace string
	// Env is added to the controller environment and overrides the defaults
	// ARGO_EXECUTOR_PLUGINS=true, LEADER_ELECTION_DISABLE=true,
	// DEFAULT_REQUEUE_TIME=1s.
	Env map[string]string
	// Config holds extra keys for workflow-controller-configmap (each value
	// a YAML document, as in Argo's docs). Key metricsConfig is always set
	// by StartArgo: it moves the metrics server to a free port, so that
	// controllers of parallel tests do not collide on :9090, and readiness
	// is checked there.
	Config map[string]string
	// Args are appended to the command line.
	Args []string
}

// ArgoController is a running workflow-controller.
type ArgoController struct {
	*Process
	Namespace  string
	MetricsURL string      // http://127.0.0.1:<port>/metrics
	Release    ArgoRelease // which Argo runs (the cluster's)
}

// StartArgoController starts the Argo workflow-controller (of the cluster's
// release, c.Argo) for a test, in namespace with extra env, and waits until
// it is running. It is stopped with the cluster. Skips (or fails under CI)
// when workflow-controller is missing.
func (c *Cluster) StartArgoController(t testing.TB, namespace string, env map[string]string) *ArgoController {
	t.Helper()
	RequireTools(t, c.Argo.WorkflowController)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	a, err := c.StartArgo(ctx, ArgoOptions{Namespace: namespace, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// StartArgo creates the controller's namespace and ConfigMap, starts
// workflow-controller with executor plugins enabled and waits until its
// caches have synced and its metrics endpoint answers.
func (c *Cluster) StartArgo(ctx context.Context, opts ArgoOptions) (*ArgoController, error) {
	if opts.Namespace == "" {
		opts.Namespace = "argo"
	}
	if err := c.EnsureNamespace(ctx, opts.Namespace); err != nil {
		return nil, err
	}
	var a *ArgoController
	err := retryOnPortClash(func() (*Process, error) {
		var err error
		a, err = c.startArgoOnce(ctx, opts)
		if a == nil {
			return nil, err
		}
		return a.Process, err
	})
	if err != nil {
		if a != nil {
			_ = a.Stop(5 * time.Second) // do not leave a half-started controller
		}
		return nil, fmt.Errorf("workflow-controller: %w", err)
	}
	return a, nil
}

// startArgoOnce points the metrics server at a free port (via the ConfigMap),
// starts the controller and waits for it. On a wait error it returns the
// controller too, so that the caller can look at its log.
func (c *Cluster) startArgoOnce(ctx context.Context, opts ArgoOptions) (*ArgoController, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	if err := c.applyArgoConfig(ctx, opts, ports[0]); err != nil {
		return nil, err
	}
	args := append([]string{"--kubeconfig=" + c.KubeconfigPath, "--namespace=" + opts.Namespace,
		"--executor-plugins"}, opts.Args...)
	p, err := c.start(c.Argo.WorkflowController, args, argoEnv(opts.Env))
	if err != nil {
		return nil, err
	}
	a := &ArgoController{Process: p, Namespace: opts.Namespace, Release: c.Argo,
		MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0])}
	if err := pollUntil(ctx, "workflow-controller", p, a.ready); err != nil {
		if exited, _ := p.Exited(); !exited { // an exit error has the tail already
			err = fmt.Errorf("%w\nlog tail:\n%s", err, p.Tail(30))
		}
		return a, err
	}
	return a, nil
}

func (a *ArgoController) ready(ctx context.Context) (bool, error) {
	if err := getOK(ctx, a.MetricsURL); err != nil {
		return false, err
	}
	return a.LogContains(argoReadyLog), nil
}

func argoEnv(extra map[string]string) []string {
	env := []string{"ARGO_EXECUTOR_PLUGINS=true", "LEADER_ELECTION_DISABLE=true", "DEFAULT_REQUEUE_TIME=1s"}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k]) // later duplicates win in os/exec
	}
	return env
}

func (c *Cluster) applyArgoConfig(ctx context.Context, opts ArgoOptions, metricsPort int) error {
	data := map[string]string{}
	for k, v := range opts.Config {
		data[k] = v
	}
	data["metricsConfig"] = fmt.Sprintf("enabled: true\nport: %d\nsecure: false\n", metricsPort)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ArgoConfigMap, Namespace: opts.Namespace}, Data: data}
	cms := c.Client.CoreV1().ConfigMaps(opts.Namespace)
	_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("argo config map: %w", err)
	}
	return nil
}

// EnsureNamespace creates namespace ns unless it exists.
func (c *Cluster) EnsureNamespace(ctx context.Context, ns string) error {
	_, err := c.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	return nil
}
