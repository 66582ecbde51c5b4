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
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/standin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/realnode"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

// ArgoNamespace is where KFP installs Argo's controller, and so where the
// plugin is registered (the standalone overlay's ConfigMap).
const ArgoNamespace = kfpNamespace

// Options configures Start.
type Options struct {
	// ToolsDir holds etcd, Kubernetes and Argo; "" means testenv.Tools().
	ToolsDir string
	// PluginBin is a built kfp-driver-plugin; "" builds one.
	PluginBin string
	// Dir is the working directory; "" means a temporary one, removed by
	// Stop (kept when KFP_TESTENV_KEEP is set).
	Dir string
	// Out receives phase timings and progress; nil is silent.
	Out io.Writer
	// ArgoEnv overrides the controller's environment; nil means
	// FastArgoEnv.
	ArgoEnv map[string]string
	// Argo selects the Argo release ("v3", "v4"; "" is $KFP_PLUGIN_ARGO's,
	// see testenv.SelectedArgo). A v4 stack runs KFP master's native line:
	// the webhook converts native workflows (--convert-native-line) and
	// runs are stored in the API test server (RunNative).
	Argo string
}

// FastArgoEnv are the controller settings the suite runs with (Argo's
// defaults are 10 s each: a plugin result shows 10-20 s after the call).
var FastArgoEnv = map[string]string{"DEFAULT_REQUEUE_TIME": "1s", "ARGO_AGENT_PATCH_RATE": "1s"}

// Stack is the whole end-to-end setup: a real control plane and node
// (kubelet, containerd, runc), the real Argo controller, our plugin
// installed from the manifests, and the KFP test servers on the node's
// bridge.
type Stack struct {
	Cluster   *testenv.Cluster
	Node      *realnode.Node
	Argo      *testenv.ArgoController
	Workflows wfclient.Interface
	Timings   *Timings
	PluginBin string
	Dir       string
	// Native: this stack runs KFP master's native-line workflows (Argo v4).
	Native bool

	opts            Options
	removeDir       bool
	svc             *services
	harness         *harness
	objects         *objectStore
	mlmdPool        *mlmd.Pool
	mlmd            *mlmd.Client
	mapper          *restmapper.DeferredDiscoveryRESTMapper
	profileSettings profile.Settings
	profileKeys     objectstore.Issuer
	behaviour       behaviours
	stopInformers   chan struct{}
}

func (s *Stack) logf(format string, args ...any) {
	if s.opts.Out != nil {
		fmt.Fprintf(s.opts.Out, format+"\n", args...)
	}
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

const nodeStep = "node: containerd, kubelet, controller-manager, scheduler"

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
		{nodeStep, s.startNode},
		{"volume provisioner (hostPath)", s.startProvisioner},
		{"images: sidecar (imported), argoexec, launcher stand-in", s.loadImages},
		{"MLMD + ml-pipeline + object store + harness servers", s.startServices},
		{"KFP namespace: manifests/overlays/standalone + KFP stand-in", s.installKFP},
		{"workflow-controller", s.startArgo},
	}
	for _, st := range steps {
		if err := s.Timings.Time(st.name, func() error { return st.run(ctx) }); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		if st.name == nodeStep {
			// Time spent waiting for another package's node is not start
			// time: the remaining steps get it back.
			var cancel context.CancelFunc
			ctx, cancel = extendDeadline(ctx, s.Node.LockWait)
			defer cancel()
		}
	}
	return nil
}

func extendDeadline(ctx context.Context, by time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(by))
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
	return os.MkdirAll(s.Dir, 0o755)
}

func (s *Stack) startCluster(ctx context.Context) error {
	c, err := testenv.Start(ctx, testenv.Options{ToolsDir: s.opts.ToolsDir, Dir: filepath.Join(s.Dir, "cluster"), ForNode: true, Argo: s.opts.Argo})
	if err != nil {
		return err
	}
	s.Cluster = c
	s.Native = c.Argo.Name == testenv.ArgoV4.Name
	if s.Workflows, err = wfclient.NewForConfig(c.RESTConfig); err != nil {
		return err
	}
	return s.newMapper()
}

func (s *Stack) startNode(ctx context.Context) error {
	n, err := realnode.Start(ctx, realnode.Options{Cluster: s.Cluster, Out: s.opts.Out})
	s.Node = n
	return err
}

func (s *Stack) startServices(ctx context.Context) error {
	var auth kfpapitest.Authenticator
	if s.Native {
		// As KFP master's API server: every call carries a token of the
		// workflow's account for the run's audience (the plugin's, from a
		// TokenRequest; the launcher's, projected), checked by TokenReview.
		// Not on the MLMD stack: the v1 TaskService there gets no token.
		var err error
		if auth, err = kfpapitest.TokenReviewAuthenticator(s.Cluster.RESTConfig, ""); err != nil {
			return err
		}
	}
	var err error
	if s.svc, err = startServices(auth); err != nil {
		return err
	}
	s.mlmdPool = mlmd.NewPool(standin.MLMDConfig)
	if s.mlmd, err = s.mlmdPool.Get(mlmd.Endpoint{Host: realnode.Gateway, Port: portOf(s.svc.MLMD.Addr)}); err != nil {
		return err
	}
	if s.objects, err = startObjectStore(ctx, s.opts.ToolsDir, s.Dir); err != nil {
		return err
	}
	// The profile controller as the multi-user install configures it for
	// SeaweedFS: every profile namespace gets its own key through IAM.
	if s.profileSettings, err = profile.LoadSettings(s.objects.profileEnv()); err != nil {
		return err
	}
	if s.profileKeys, err = s.profileSettings.Issuer(); err != nil {
		return err
	}
	s.harness, err = startHarness(s)
	return err
}

func (s *Stack) startArgo(ctx context.Context) error {
	env := s.opts.ArgoEnv
	if env == nil {
		env = FastArgoEnv
	}
	a, err := s.Cluster.StartArgo(ctx, testenv.ArgoOptions{Namespace: ArgoNamespace, Env: env,
		// The client defaults (20 qps, burst 30) throttle the controller
		// once several workflows run at a time on a fast local apiserver.
		Args: []string{"--qps=200", "--burst=400"},
	})
	s.Argo = a
	return err
}

// RestartArgo replaces the workflow-controller with one running env (nil:
// FastArgoEnv), so that one stack can compare controller settings. Only
// between runs: workflows in flight would see two controllers' decisions.
func (s *Stack) RestartArgo(ctx context.Context, env map[string]string) error {
	if s.Argo != nil {
		if err := s.Argo.Stop(5 * time.Second); err != nil {
			return fmt.Errorf("stopping the workflow-controller: %w", err)
		}
		s.Argo = nil
	}
	s.opts.ArgoEnv = env
	return s.startArgo(ctx)
}

// Stop stops the controller first (no new pods), then the node (which
// deletes every pod and checks that nothing is left on the machine), the
// servers and the control plane.
func (s *Stack) Stop() error {
	var errs []error
	if s.Argo != nil {
		errs = append(errs, s.Argo.Stop(5*time.Second))
	}
	if s.stopInformers != nil {
		close(s.stopInformers)
	}
	if s.Node != nil {
		errs = append(errs, s.Node.Stop())
	}
	if s.harness != nil {
		s.harness.stop()
	}
	if s.objects != nil {
		s.objects.stop()
	}
	if s.mlmdPool != nil {
		_ = s.mlmdPool.Close()
	}
	if s.svc != nil {
		s.svc.stop()
	}
	if s.Cluster != nil {
		errs = append(errs, s.Cluster.Stop())
	}
	if s.removeDir && os.Getenv("KFP_TESTENV_KEEP") == "" {
		errs = append(errs, os.RemoveAll(s.Dir))
	}
	return errors.Join(errs...)
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return addr
}

// ArgoComponentFile is the kustomize patch through which the manifests set
// Argo's controller environment (components/argo-executor-plugins).
const ArgoComponentFile = "manifests/components/argo-executor-plugins/workflow-controller-env.yaml"

// ShippedArgoEnv is the controller environment the manifests' component
// sets, read from the component itself so that what is measured is what
// ships.
func ShippedArgoEnv() (map[string]string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, ArgoComponentFile))
	if err != nil {
		return nil, err
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", ArgoComponentFile, err)
	}
	env := map[string]string{}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != "workflow-controller" {
			continue
		}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
	}
	if len(env) == 0 {
		return nil, fmt.Errorf("%s: no workflow-controller environment", ArgoComponentFile)
	}
	return env, nil
}
