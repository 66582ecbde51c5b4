package realnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// Fixed network layout: one node per machine, and the addresses live on a
// bridge this package creates and deletes.
const (
	BridgeName = "kfpnode0"
	Gateway    = "10.244.77.1" // the host's address on the bridge; node IP
	PodSubnet  = "10.244.77.0/24"
	ServiceIP  = "10.0.0.1" // the kubernetes Service (first address of 10.0.0.0/24)
	NodeName   = "localhost"
	// ClusterDomain is the kubelet's cluster domain.
	ClusterDomain = "cluster.local"
)

// Options configures Start.
type Options struct {
	// Cluster is a running control plane started with testenv.Options
	// ForNode.
	Cluster *testenv.Cluster
	// Dir holds all state; "" means a directory under Cluster.Dir.
	Dir string
	// Out receives progress lines; nil is silent.
	Out io.Writer
	// MirrorHosts are the registry hosts whose pulls go to the in-process
	// registry (besides the registry's own address).
	MirrorHosts []string
}

// Node is a running kubelet with containerd, controller-manager and
// scheduler.
type Node struct {
	Dir      string
	Cluster  *testenv.Cluster
	Registry *Registry
	DNS      *DNS
	// LockWait is how long Start waited for another process's node to
	// stop: callers with a start deadline extend it by this much.
	LockWait time.Duration

	opts      Options
	lock      *os.File
	before    hostState
	bridge    bool
	forward   *forwarder
	procs     []*testenv.Process
	container *containerd
}

// StartTimeout bounds Start.
const StartTimeout = 4 * time.Minute

// Start brings up the node and waits until it is Ready. On error everything
// started is torn down again.
func Start(ctx context.Context, opts Options) (*Node, error) {
	if opts.Cluster == nil {
		return nil, errors.New("realnode: Options.Cluster is required")
	}
	n := &Node{opts: opts, Cluster: opts.Cluster, Dir: opts.Dir}
	if n.Dir == "" {
		n.Dir = filepath.Join(opts.Cluster.Dir, "node")
	}
	if err := n.start(ctx); err != nil {
		return nil, errors.Join(err, n.Stop())
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	if err := requireHost(); err != nil {
		return err
	}
	var err error
	waitStart := time.Now()
	if n.lock, err = lockMachine(ctx); err != nil {
		return err
	}
	n.LockWait = time.Since(waitStart)
	if n.LockWait > time.Second {
		n.logf("realnode: waited %s for the machine's node lock", n.LockWait.Round(time.Second))
	}
	// The wait for the lock may have used up the caller's deadline (another
	// package's suite held the node): the start itself gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StartTimeout)
	defer cancel()
	if err := cleanStale(); err != nil {
		return fmt.Errorf("cleaning up after a node that was killed: %w", err)
	}
	if n.before, err = captureHost(); err != nil {
		return err
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"bridge", n.startBridge},
		{"registry", n.startRegistry},
		{"dns + apiserver forwarder", n.startNetworkServices},
		{"containerd", n.startContainerd},
		{"controller-manager + scheduler", n.startControlPlane},
		{"kubelet", n.startKubelet},
		{"node Ready", n.waitReady},
	}
	for _, st := range steps {
		start := time.Now()
		if err := st.run(ctx); err != nil {
			return fmt.Errorf("realnode: %s: %w", st.name, err)
		}
		n.logf("realnode: %s up in %s", st.name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func (n *Node) logf(format string, args ...any) {
	if n.opts.Out != nil {
		fmt.Fprintf(n.opts.Out, format+"\n", args...)
	}
}

// path returns a path under the node's state directory.
func (n *Node) path(elem ...string) string {
	return filepath.Join(append([]string{n.Dir}, elem...)...)
}

// startProcess runs a binary in its own process group, logging under Dir,
// and registers it for Stop.
func (n *Node) startProcess(name, bin string, args []string) (*testenv.Process, error) {
	if err := os.MkdirAll(n.path("logs"), 0o755); err != nil {
		return nil, err
	}
	p, err := testenv.StartProcess(name, n.path("logs", name+".log"), bin, args, nil)
	if err != nil {
		return nil, err
	}
	n.procs = append(n.procs, p)
	return p, nil
}

// LogTails returns the end of every node process log, for failure reports.
func (n *Node) LogTails(lines int) string {
	var s string
	for _, p := range n.procs {
		s += fmt.Sprintf("----- %s (pid %d) %s -----\n%s\n", p.Name, p.Pid(), p.LogPath, p.Tail(lines))
	}
	return s
}
