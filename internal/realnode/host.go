package realnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// ErrHostUnsuitable wraps every reason this machine cannot run a node (not
// root, a package missing); tests skip on it unless tools are required.
var ErrHostUnsuitable = errors.New("host cannot run a real node")

// Host binaries from Debian packages (hack/node-packages.sh installs them).
var hostBinaries = map[string]string{
	"containerd": "/usr/bin/containerd",
	"runc":       "/usr/sbin/runc",
	"bridge CNI": "/usr/lib/cni/bridge",
	"ip":         "/usr/sbin/ip",
	"iptables":   "/usr/sbin/iptables",
}

// CNIBinDir holds the CNI plugins (Debian's containernetworking-plugins).
const CNIBinDir = "/usr/lib/cni"

func requireHost() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root", ErrHostUnsuitable)
	}
	for what, path := range hostBinaries {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%w: %s (%s) missing; run hack/node-packages.sh", ErrHostUnsuitable, what, path)
		}
	}
	return nil
}

// Paths a kubelet or containerd uses whatever their configuration says;
// removed at Stop unless they existed before Start.
var fixedPaths = []string{
	"/run/containerd/s", "/run/containerd/fifo", "/run/containerd/runc",
	"/var/lib/cni/results", "/var/lib/cni/networks", "/var/lib/kubelet/device-plugins",
	"/var/lib/kubelet/pod-resources", "/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins",
}

// hostState is what Stop must leave as it found.
type hostState struct {
	ipForward string
	iptables  string
	existed   map[string]bool
}

func captureHost() (hostState, error) {
	h := hostState{existed: map[string]bool{}}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		return h, err
	}
	h.ipForward = strings.TrimSpace(string(b))
	if h.iptables, err = iptablesRules(); err != nil {
		return h, err
	}
	for _, p := range append(fixedPaths, "/var/lib/kubelet", "/var/lib/cni", "/run/containerd") {
		_, err := os.Lstat(p)
		h.existed[p] = err == nil
	}
	return h, nil
}

// iptablesRules lists the rules of the tables a kubelet or CNI plugin would
// touch.
func iptablesRules() (string, error) {
	var all []string
	for _, table := range []string{"filter", "nat", "mangle"} {
		out, err := exec.Command("iptables", "-w", "-t", table, "-S").CombinedOutput()
		if err != nil {
			// No iptables support in this kernel: nothing can be written either.
			if strings.Contains(string(out), "Table does not exist") || strings.Contains(string(out), "can't initialize") {
				continue
			}
			return "", fmt.Errorf("iptables -t %s -S: %v: %s", table, err, out)
		}
		all = append(all, "# "+table, string(out))
	}
	return strings.Join(all, "\n"), nil
}

// lockPath serialises nodes across test processes on this machine.
const lockPath = "/run/kfp-driver-plugin-realnode.lock"

// lockWait bounds the wait for another test package's node: not the
// caller's start deadline, since `go test ./...` runs packages side by side
// and the other one may hold the node for its whole suite.
const lockWait = 45 * time.Minute

func lockMachine(context.Context) (*os.File, error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("node lock: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	err = testenv.PollUntil(ctx, "the machine's node lock "+lockPath, nil, func(context.Context) (bool, error) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, errors.New("another test process runs a node")
		}
		return err == nil, err
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func unlockMachine(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// run runs a command, returning its output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitGone polls until cond is true or the deadline passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}
