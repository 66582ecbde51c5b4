package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// ProcessView is what a container's main process is, as the kernel has it.
type ProcessView struct {
	PID, UID, GID int
	CapEff        uint64
	NoNewPrivs    bool
	Seccomp       int // 2: filter
	ReadOnlyRoot  bool
	// TokenReadable: Argo's token file, seen from the container's root,
	// is readable by the process's uid or gid.
	TokenReadable bool
}

// SidecarProcess inspects the plugin container of a running agent pod
// through /proc on the node: credentials, capabilities, seccomp, its root
// mount, and Argo's token file inside its root.
func (s *Stack) SidecarProcess(ctx context.Context, ns, pod string) (*ProcessView, error) {
	p, err := s.Cluster.Client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var id string
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == pluginconfig.ContainerName && cs.State.Running != nil {
			id = cs.ContainerID
		}
	}
	if id == "" {
		return nil, fmt.Errorf("pod %s/%s: container %s is not running", ns, pod, pluginconfig.ContainerName)
	}
	pid, err := s.Node.TaskPID(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &ProcessView{PID: pid}
	if err := v.readStatus(pid); err != nil {
		return nil, err
	}
	v.ReadOnlyRoot = rootMountReadOnly(pid)
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/root/var/run/argo/token", pid), &st); err == nil {
		v.TokenReadable = (int(st.Uid) == v.UID && st.Mode&0o400 != 0) || (int(st.Gid) == v.GID && st.Mode&0o040 != 0) || st.Mode&0o004 != 0
	}
	return v, nil
}

func (v *ProcessView) readStatus(pid int) error {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "Uid":
			v.UID, _ = strconv.Atoi(fields[0])
		case "Gid":
			v.GID, _ = strconv.Atoi(fields[0])
		case "CapEff":
			v.CapEff, _ = strconv.ParseUint(fields[0], 16, 64)
		case "NoNewPrivs":
			v.NoNewPrivs = fields[0] == "1"
		case "Seccomp":
			v.Seccomp, _ = strconv.Atoi(fields[0])
		}
	}
	return sc.Err()
}

// rootMountReadOnly reads the process's own mount table: its "/" is
// mounted read-only.
func rootMountReadOnly(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return false
	}
	ro := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "/" {
			ro = strings.Contains(","+f[5]+",", ",ro,") // the last "/" mount is the visible one
		}
	}
	return ro
}

// ExecInPod runs a command in a container of a running pod with the real
// kubectl (through the apiserver and the kubelet) and returns its output.
func (s *Stack) ExecInPod(ctx context.Context, ns, pod, container string, cmd ...string) (string, error) {
	out, err := s.Cluster.Kubectl(ctx, append([]string{"exec", "-n", ns, pod, "-c", container, "--"}, cmd...)...)
	if err != nil {
		return string(out) + err.Error(), err
	}
	return string(out), nil
}
