package realnode

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"text/template"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// CRINamespace is containerd's namespace for CRI (kubelet) images.
const CRINamespace = "k8s.io"

// SandboxImage is the pod sandbox ("pause") image; the node pushes a
// busybox-based one under this name before any pod starts.
const SandboxImage = "registry.k8s.io/pause:3.10"

type containerd struct {
	proc   *testenv.Process
	socket string
}

// The settings each fixed a blocker on these machines (real-node.md):
// restrict_oom_score_adj (root lacks CAP_SYS_RESOURCE), cgroupfs, no
// AppArmor. Every registry host is mirrored to the in-process registry.
var containerdConfig = template.Must(template.New("config.toml").Parse(`version = 2
root = "{{.Dir}}/containerd/root"
state = "{{.Dir}}/containerd/state"
[grpc]
  address = "{{.Socket}}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.Sandbox}}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{.CNIBin}}"
    conf_dir = "{{.Dir}}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors]
{{- range .Mirrors}}
    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."{{.}}"]
      endpoint = ["http://{{$.Registry}}"]
{{- end}}
`))

// cniConfig: bridge on our pre-created bridge, no gateway mode (which would
// turn on ip_forward) and no masquerading; routes the Service range to the
// host so pods reach the apiserver forwarder.
const cniConfig = `{
  "cniVersion": "0.4.0",
  "name": "kfp-realnode",
  "type": "bridge",
  "bridge": "` + BridgeName + `",
  "isGateway": false,
  "ipMasq": false,
  "hairpinMode": true,
  "ipam": {
    "type": "host-local",
    "ranges": [[{"subnet": "` + PodSubnet + `", "rangeStart": "10.244.77.10", "rangeEnd": "10.244.77.250", "gateway": "` + Gateway + `"}]],
    "routes": [{"dst": "10.0.0.0/24", "gw": "` + Gateway + `"}],
    "dataDir": "%s"
  }
}
`

func (n *Node) startContainerd(ctx context.Context) error {
	for _, d := range []string{"containerd", "cni/net.d", "cni/ipam"} {
		if err := os.MkdirAll(n.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(n.path("cni/net.d/10-kfp-realnode.conf"),
		[]byte(fmt.Sprintf(cniConfig, n.path("cni/ipam"))), 0o644); err != nil {
		return err
	}
	c := &containerd{socket: n.path("containerd.sock")}
	mirrors := append([]string{"*", n.Registry.Addr}, n.opts.MirrorHosts...)
	var cfg strings.Builder
	if err := containerdConfig.Execute(&cfg, map[string]any{"Dir": n.Dir, "Socket": c.socket,
		"Sandbox": SandboxImage, "CNIBin": CNIBinDir, "Registry": n.Registry.Addr, "Mirrors": mirrors}); err != nil {
		return err
	}
	if err := os.WriteFile(n.path("containerd.toml"), []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	var err error
	if c.proc, err = n.startProcess("containerd", hostBinaries["containerd"], []string{"--config", n.path("containerd.toml")}); err != nil {
		return err
	}
	n.container = c
	return testenv.PollUntil(ctx, "containerd socket", c.proc, func(context.Context) (bool, error) {
		conn, err := net.DialTimeout("unix", c.socket, time.Second)
		if err != nil {
			return false, err
		}
		conn.Close()
		return true, nil
	})
}

// ctr runs containerd's CLI against this node's containerd, in the CRI
// namespace.
func (n *Node) ctr(ctx context.Context, args ...string) (string, error) {
	all := append([]string{"--address", n.container.socket, "--namespace", CRINamespace}, args...)
	out, err := exec.CommandContext(ctx, "ctr", all...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// ImportImage imports an image tarball (OCI layout or docker archive) into
// the node's containerd, as `ctr images import` does for an admin.
func (n *Node) ImportImage(ctx context.Context, tarball string) error {
	_, err := n.ctr(ctx, "images", "import", "--no-unpack=false", tarball)
	return err
}

// Images lists the image references containerd has.
func (n *Node) Images(ctx context.Context) ([]string, error) {
	out, err := n.ctr(ctx, "images", "ls", "-q")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// TaskPID returns the host PID of a running container's main process;
// containerID is a pod status's containerID ("containerd://<id>" or the id).
func (n *Node) TaskPID(ctx context.Context, containerID string) (int, error) {
	id := strings.TrimPrefix(containerID, "containerd://")
	out, err := n.ctr(ctx, "tasks", "ls")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == id && f[2] == "RUNNING" {
			var pid int
			if _, err := fmt.Sscanf(f[1], "%d", &pid); err == nil {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no running task for container %s", id)
}
