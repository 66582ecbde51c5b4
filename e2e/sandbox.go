package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sandboxReady is what the holder prints once its mounts are in place.
const sandboxReady = "sandbox-ready"

// sandbox is a played pod's private mount namespace, held by one idle
// process (the pod's "pause container"): a tmpfs on /run, so that
// /var/run/argo (Argo's hard-coded token directory, an emptyDir in the
// real pod) is the pod's own, and the pod's /etc/hosts, which points the
// cluster service names the workflow uses (metadata-grpc-service...,
// ml-pipeline...) at the loopback test servers, as cluster DNS would. The
// pod's containers join it with nsenter.
type sandbox struct {
	holder *proc
	dir    string
}

// startSandbox creates the namespace (we are root: unshare works) and
// waits until the holder reports its mounts done.
func startSandbox(ctx context.Context, dir string, hosts []byte) (*sandbox, error) {
	hostsFile := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hostsFile, hosts, 0o644); err != nil {
		return nil, fmt.Errorf("sandbox hosts file: %w", err)
	}
	script := strings.Join([]string{
		"mount -t tmpfs -o mode=0755 tmpfs /run",
		"mkdir -p /run/argo",
		"mount --bind " + shellQuote(hostsFile) + " /etc/hosts",
		"echo " + sandboxReady,
		"exec sleep infinity",
	}, " && ")
	argv := []string{"unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script}
	holder, err := startProc("sandbox", filepath.Join(dir, "sandbox.log"), argv, nil)
	if err != nil {
		return nil, err
	}
	s := &sandbox{holder: holder, dir: dir}
	err = poll(ctx, "pod sandbox mounts", func() (bool, error) {
		if done, werr := holder.exited(); done {
			return false, permanent{fmt.Errorf("sandbox exited (%v): %s", werr, holder.tail(10))}
		}
		b, _ := os.ReadFile(holder.logPath)
		return strings.Contains(string(b), sandboxReady), nil
	})
	if err != nil {
		_ = holder.Stop(0)
		return nil, err
	}
	return s, nil
}

// command wraps argv so that it runs inside the sandbox's mount namespace.
func (s *sandbox) command(argv ...string) []string {
	ns := "--mount=/proc/" + strconv.Itoa(s.holder.pid()) + "/ns/mnt"
	return append([]string{"nsenter", ns, "--"}, argv...)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
