package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	wfclient "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// ArgoNamespace is where the controller runs and the plugin is registered.
const ArgoNamespace = "argo"

// Options configures Start.
type Options struct {
	// ToolsDir holds etcd, kube-apiserver, kubectl and Argo; "" means
	// testenv.Tools().
	ToolsDir string
	// PluginBin is a built kfp-driver-plugin; "" builds one.
	PluginBin string
	// Dir is the working directory; "" means a temporary one, removed by
	// Stop (kept when KFP_TESTENV_KEEP is set).
	Dir string
	// Out receives phase timings and progress; nil is silent.
	Out io.Writer
	// PatchRate is the agent's ARGO_AGENT_PATCH_RATE (default 1s).
	PatchRate time.Duration
}

// Stack is the whole end-to-end setup: a real control plane, the real
// Argo controller with our plugin registered, the KFP test servers, and
// the players that stand in for the kubelet (agent pods run on the host,
// executor pods finished by the launcher stand-in).
type Stack struct {
	Cluster   *testenv.Cluster
	Argo      *testenv.ArgoController
	Workflows wfclient.Interface
	Timings   *Timings
	PluginBin string
	// PluginConfigMap is the rendered plugin ConfigMap file (what
	// `convert --plugin-configmap` reads).
	PluginConfigMap string
	Dir             string

	opts      Options
	removeDir bool
	svc       *services
	kubelet   *kubelet
	agents    *agentPlayer
	executors *executorPlayer
	behaviour behaviours
	stopCtx   context.CancelFunc
}

// Start brings everything up; ctx bounds the start only. On error what was
// started is stopped again.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	s := &Stack{opts: opts, Timings: NewTimings(opts.Out)}
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	if err := s.makeDir(); err != nil {
		return err
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"build kfp-driver-plugin", s.buildPlugin},
		{"etcd + kube-apiserver + CRDs", s.startCluster},
		{"MLMD + ml-pipeline servers, kubelet stand-in", s.startServices},
		{"plugin ConfigMap + RBAC (real configmap cmd)", s.registerPlugin},
		{"workflow-controller", s.startArgo},
		{"agent + executor pod players", s.startPlayers},
	}
	for _, st := range steps {
		if err := s.Timings.Time(st.name, func() error { return st.run(ctx) }); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return nil
}

func (s *Stack) makeDir() error {
	s.Dir = s.opts.Dir
	if s.Dir == "" {
		dir, err := os.MkdirTemp("", "kfp-e2e-")
		if err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		s.Dir, s.removeDir = dir, true
	}
	return os.MkdirAll(filepath.Join(s.Dir, "pods"), 0o755)
}

func (s *Stack) startCluster(ctx context.Context) error {
	c, err := testenv.Start(ctx, testenv.Options{ToolsDir: s.opts.ToolsDir, Dir: filepath.Join(s.Dir, "cluster")})
	if err != nil {
		return err
	}
	s.Cluster = c
	s.Workflows, err = wfclient.NewForConfig(c.RESTConfig)
	return err
}

func (s *Stack) startServices(ctx context.Context) error {
	var err error
	if s.svc, err = startServices(); err != nil {
		return err
	}
	if s.kubelet, err = startKubelet(); err != nil {
		return err
	}
	return s.kubelet.register(ctx, s.Cluster.Client)
}

func (s *Stack) startArgo(ctx context.Context) error {
	rate := s.opts.PatchRate
	if rate == 0 {
		rate = time.Second
	}
	a, err := s.Cluster.StartArgo(ctx, testenv.ArgoOptions{Namespace: ArgoNamespace, Env: map[string]string{
		"DEFAULT_REQUEUE_TIME":  "1s",
		"ARGO_AGENT_PATCH_RATE": rate.String(),
	},
		// The client defaults (20 qps, burst 30) throttle the controller
		// once several workflows run at a time on a fast local apiserver.
		Args: []string{"--qps=200", "--burst=400"},
	})
	s.Argo = a
	return err
}

func (s *Stack) startPlayers(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.Background())
	s.stopCtx = cancel
	var err error
	if s.executors, err = startExecutorPlayer(ctx, runCtx, s); err != nil {
		return err
	}
	s.agents, err = startAgentPlayer(ctx, runCtx, s)
	return err
}

// Stop stops the players (and every pod process they started), the
// servers, the controller and the cluster, then checks that no process
// group the harness started is left.
func (s *Stack) Stop() error {
	var errs []error
	if s.stopCtx != nil {
		s.stopCtx()
	}
	if s.agents != nil {
		errs = append(errs, s.agents.stopAll())
	}
	if s.executors != nil {
		s.executors.wait()
	}
	if s.svc != nil {
		s.svc.stop()
	}
	if s.kubelet != nil {
		s.kubelet.stop()
	}
	var pgids []int
	if s.Cluster != nil {
		for _, p := range s.Cluster.Processes() {
			pgids = append(pgids, p.Pid())
		}
		errs = append(errs, s.Cluster.Stop())
	}
	if s.agents != nil {
		pgids = append(pgids, s.agents.pgids()...)
	}
	errs = append(errs, checkGone(pgids))
	if s.removeDir && os.Getenv("KFP_TESTENV_KEEP") == "" {
		errs = append(errs, os.RemoveAll(s.Dir))
	}
	return errors.Join(errs...)
}

// checkGone verifies that every process group is empty.
func checkGone(pgids []int) error {
	var left []int
	for _, g := range pgids {
		if !groupGone(g) {
			left = append(left, g)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("process groups still running after stop: %v", left)
	}
	return nil
}

// ProcessGroups returns how many process groups the harness started
// (cluster processes plus every played pod's), for the clean-up report.
func (s *Stack) ProcessGroups() int {
	n := len(s.Cluster.Processes())
	if s.agents != nil {
		n += len(s.agents.pgids())
	}
	return n
}
