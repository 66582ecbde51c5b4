package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options configures Start. The zero value starts a cluster with the default
// CRDs from the tools found by Tools.
type Options struct {
	// ToolsDir holds the binaries; empty means Tools().
	ToolsDir string
	// Dir is the working directory (certs, etcd data, logs, kubeconfig).
	// Empty means a new temporary directory, removed by Stop.
	Dir string
	// Argo selects the Argo release ("v3" or "v4", see ArgoFor) whose CRDs
	// are installed and whose workflow-controller StartArgo runs; empty
	// means $KFP_PLUGIN_ARGO, and that unset means v3.
	Argo string
	// SkipDefaultCRDs leaves out the default CRDs (the release's Argo
	// minimal CRDs + PodDefault).
	SkipDefaultCRDs bool
	// CRDs are extra CRD files or directories of YAML files to install.
	CRDs []string
	// APIServerFlags are appended to the kube-apiserver command line.
	APIServerFlags []string
	// ForNode configures the apiserver for a real kubelet and
	// kube-controller-manager (see internal/realnode): Node,RBAC
	// authorization, NodeRestriction and ServiceAccount admission, a client
	// certificate for kubelet calls, and kubelets reached by host name.
	ForNode bool
}

// Cluster is a running etcd + kube-apiserver pair (plus whatever was started
// on it, such as the Argo controller).
type Cluster struct {
	Dir            string
	ToolsDir       string
	Argo           ArgoRelease // the release Options.Argo selected
	EtcdURL        string
	Host           string // https://127.0.0.1:<port>
	KubeconfigPath string
	AdminToken     string
	RESTConfig     *rest.Config
	Client         kubernetes.Interface
	Dynamic        dynamic.Interface

	pki       *pki
	removeDir bool
	mu        sync.Mutex
	procs     []*Process
	stopOnce  sync.Once
	stopErr   error
}

// Start starts etcd and kube-apiserver, writes the kubeconfig and installs the
// CRDs. ctx bounds the start-up only. On error everything started is stopped.
// Errors about absent binaries wrap ErrToolsMissing.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := newCluster(opts)
	if err != nil {
		return nil, err
	}
	if err := c.boot(ctx, opts); err != nil {
		// Read the logs before Stop removes them.
		err = fmt.Errorf("start cluster: %w\n%s", err, c.LogTails(20))
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func newCluster(opts Options) (*Cluster, error) {
	tools := opts.ToolsDir
	if tools == "" {
		var err error
		if tools, err = Tools(); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{Etcd, KubeAPIServer} {
		if _, err := ToolPath(tools, name); err != nil {
			return nil, err
		}
	}
	argo, err := ArgoFor(opts.Argo)
	if opts.Argo == "" {
		argo, err = SelectedArgo()
	}
	if err != nil {
		return nil, err
	}
	c := &Cluster{ToolsDir: tools, Dir: opts.Dir, Argo: argo}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "kfp-testenv-")
		if err != nil {
			return nil, fmt.Errorf("cluster dir: %w", err)
		}
		c.Dir, c.removeDir = dir, true
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	return c, nil
}

func (c *Cluster) boot(ctx context.Context, opts Options) error {
	var err error
	if c.pki, err = newPKI(filepath.Join(c.Dir, "pki")); err != nil {
		return err
	}
	c.AdminToken = c.pki.AdminToken
	if err := c.startEtcd(ctx); err != nil {
		return err
	}
	flags := opts.APIServerFlags
	if opts.ForNode {
		node, err := c.nodeAPIServerFlags()
		if err != nil {
			return err
		}
		flags = append(node, flags...)
	}
	if err := c.startAPIServer(ctx, flags, opts.ForNode); err != nil {
		return err
	}
	c.KubeconfigPath = filepath.Join(c.Dir, "kubeconfig")
	if err := writeKubeconfig(c.KubeconfigPath, c.Host, c.pki.CAPEM, c.AdminToken); err != nil {
		return err
	}
	crds := opts.CRDs
	if !opts.SkipDefaultCRDs {
		crds = append(c.Argo.DefaultCRDs(c.ToolsDir), crds...)
	}
	return c.InstallCRDs(ctx, crds...)
}

// connect builds the clients once the apiserver address is known.
func (c *Cluster) connect() error {
	c.RESTConfig = restConfig(c.Host, c.pki.CAPEM, c.AdminToken)
	client, err := kubernetes.NewForConfig(c.RESTConfig)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	c.Client, c.Dynamic = client, dyn
	return nil
}

// start launches one tool binary, logging to <Dir>/logs/<name>[-N].log, and
// registers it so that Stop kills it.
func (c *Cluster) start(name string, args, env []string) (*Process, error) {
	bin, err := ToolPath(c.ToolsDir, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	logName := name
	if n := c.countLocked(name); n > 0 {
		logName = fmt.Sprintf("%s-%d", name, n)
	}
	p, err := startProcess(logName, filepath.Join(c.Dir, "logs", logName+".log"), bin, args, env)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

func (c *Cluster) countLocked(name string) int {
	n := 0
	for _, p := range c.procs {
		if filepath.Base(p.cmd.Path) == name {
			n++
		}
	}
	return n
}

// Processes returns every process started on this cluster, oldest first.
func (c *Cluster) Processes() []*Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Process(nil), c.procs...)
}

// Stop kills every process (newest first, so that the apiserver outlives its
// clients) and removes the temporary directory. Safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	procs := c.Processes()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, procs[i].Stop(5*time.Second))
	}
	if c.removeDir && os.Getenv("KFP_TESTENV_KEEP") == "" {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.Dir, err))
		}
	}
	return errors.Join(errs...)
}

// LogTails returns the last n lines of every process log, for failure reports.
func (c *Cluster) LogTails(n int) string {
	var s string
	for _, p := range c.Processes() {
		s += fmt.Sprintf("----- %s (pid %d) %s -----\n%s\n", p.Name, p.Pid(), p.LogPath, p.Tail(n))
	}
	return s
}
