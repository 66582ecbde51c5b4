package realnode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// podsGoneTimeout bounds the wait for the kubelet to tear pods down.
const podsGoneTimeout = 90 * time.Second

// Stop tears the node down and reports anything left behind: pods are
// deleted first (so the kubelet stops their sandboxes and CNI releases
// their addresses), then the processes stop, mounts under the state
// directory are detached, the cgroup directories, fixed paths and the
// bridge are removed, and ip_forward and the iptables rules are compared
// with what they were before Start. Safe to call on a half-started node.
func (n *Node) Stop() error {
	var errs []error
	errs = append(errs, n.stopProcessNamed("kube-scheduler", "kube-controller-manager"))
	if n.running("kubelet") {
		errs = append(errs, n.deletePods())
	}
	errs = append(errs, n.stopProcessNamed("kubelet", "containerd"))
	errs = append(errs, killLeftovers(n.container))
	if n.forward != nil {
		errs = append(errs, n.forward.stop())
	}
	if n.DNS != nil {
		n.DNS.stop()
	}
	if n.Registry != nil {
		errs = append(errs, n.Registry.stop())
	}
	errs = append(errs, unmountUnder(n.Dir), removeCgroups(), n.removeFixedPaths(), n.deleteBridge())
	errs = append(errs, n.Leftovers())
	unlockMachine(n.lock)
	n.lock = nil
	return errors.Join(errs...)
}

func (n *Node) running(name string) bool {
	for _, p := range n.procs {
		if p.Name == name {
			exited, _ := p.Exited()
			return !exited
		}
	}
	return false
}

func (n *Node) stopProcessNamed(names ...string) error {
	var errs []error
	for _, name := range names {
		for _, p := range n.procs {
			if p.Name == name {
				errs = append(errs, p.Stop(10*time.Second))
			}
		}
	}
	return errors.Join(errs...)
}

// deletePods deletes every pod and waits until the kubelet has confirmed
// each deletion (the object disappears only after its sandbox is gone).
func (n *Node) deletePods() error {
	ctx, cancel := context.WithTimeout(context.Background(), podsGoneTimeout)
	defer cancel()
	pods := n.Cluster.Client.CoreV1().Pods(metav1.NamespaceAll)
	grace := int64(1)
	return testenv.PollUntil(ctx, "all pods deleted by the kubelet", nil, func(ctx context.Context) (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil {
				_ = n.Cluster.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name,
					metav1.DeleteOptions{GracePeriodSeconds: &grace})
			}
		}
		if len(list.Items) > 0 {
			return false, fmt.Errorf("%d pods left, e.g. %s/%s", len(list.Items), list.Items[0].Namespace, list.Items[0].Name)
		}
		return true, nil
	})
}

// killLeftovers kills the runc shims of our containerd (they daemonize out
// of its process group) and any process still in a pod cgroup.
func killLeftovers(c *containerd) error {
	var pids []int
	if c != nil {
		pids = append(pids, processesMatching(func(pid int, cmdline string) bool {
			return strings.Contains(cmdline, "containerd-shim") && strings.Contains(cmdline, c.socket)
		})...)
	}
	pids = append(pids, processesMatching(func(pid int, _ string) bool { return inPodCgroup(pid) })...)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if !waitFor(10*time.Second, func() bool { return len(alive(pids)) == 0 }) {
		return fmt.Errorf("processes still running after SIGKILL: %v", alive(pids))
	}
	return nil
}

func processesMatching(match func(pid int, cmdline string) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if match(pid, strings.ReplaceAll(string(b), "\x00", " ")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func inPodCgroup(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(b), "/kubepods")
}

func alive(pids []int) []int {
	var left []int
	for _, pid := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(b), ") Z ") {
			left = append(left, pid)
		}
	}
	return left
}

// mountsUnder lists mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := strings.ReplaceAll(fields[4], `\040`, " ")
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	slices.SortFunc(mounts, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return slices.Compact(mounts)
}

func unmountUnder(dir string) error {
	if dir == "" {
		return nil
	}
	for range 3 { // a bind mount can hide another one below it
		ms := mountsUnder(dir)
		if len(ms) == 0 {
			return nil
		}
		for _, m := range ms {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
	if ms := mountsUnder(dir); len(ms) > 0 {
		return fmt.Errorf("mounts left under %s: %v", dir, ms)
	}
	return nil
}

// cgroupRoots are the cgroup directories the kubelet and containerd create
// at the root of each hierarchy.
var cgroupRoots = []string{"kubepods", "k8s.io"}

func cgroupDirs() []string {
	var dirs []string
	hierarchies, _ := os.ReadDir("/sys/fs/cgroup")
	for _, h := range hierarchies {
		for _, r := range cgroupRoots {
			d := filepath.Join("/sys/fs/cgroup", h.Name(), r)
			if _, err := os.Stat(d); err == nil {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// removeCgroups removes the pod cgroup trees (rmdir, deepest first: cgroup
// directories cannot be removed recursively).
func removeCgroups() error {
	var errs []error
	for _, root := range cgroupDirs() {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dirs[i], err))
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (n *Node) removeFixedPaths() error {
	var errs []error
	for _, p := range append(slices.Clone(fixedPaths), "/var/lib/kubelet", "/var/lib/cni", "/run/containerd") {
		if n.before.existed == nil || n.before.existed[p] {
			continue
		}
		if ms := mountsUnder(p); len(ms) > 0 {
			errs = append(errs, unmountUnder(p))
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Leftovers reports what a stopped node left on the machine: the bridge,
// mounts under its state directory, pod cgroups, processes in them, paths
// that were not there before, and a changed ip_forward or iptables rule
// set.
func (n *Node) Leftovers() error {
	var errs []error
	if _, err := os.Stat("/sys/class/net/" + BridgeName); err == nil {
		errs = append(errs, fmt.Errorf("bridge %s still exists", BridgeName))
	}
	if ms := mountsUnder(n.Dir); len(ms) > 0 {
		errs = append(errs, fmt.Errorf("mounts left: %v", ms))
	}
	if ds := cgroupDirs(); len(ds) > 0 {
		errs = append(errs, fmt.Errorf("cgroup directories left: %v", ds))
	}
	if ps := processesMatching(func(pid int, _ string) bool { return inPodCgroup(pid) }); len(ps) > 0 {
		errs = append(errs, fmt.Errorf("processes left in pod cgroups: %v", ps))
	}
	if n.before.existed != nil {
		for _, p := range fixedPaths {
			if _, err := os.Lstat(p); err == nil && !n.before.existed[p] {
				errs = append(errs, fmt.Errorf("path left: %s", p))
			}
		}
		if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil && strings.TrimSpace(string(b)) != n.before.ipForward {
			errs = append(errs, fmt.Errorf("ip_forward is %s, was %s", strings.TrimSpace(string(b)), n.before.ipForward))
		}
		if rules, err := iptablesRules(); err == nil && rules != n.before.iptables {
			errs = append(errs, fmt.Errorf("iptables rules changed:\nbefore:\n%s\nafter:\n%s", n.before.iptables, rules))
		}
	}
	return errors.Join(errs...)
}
