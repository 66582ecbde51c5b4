package realnode

import (
	"context"
	"net"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/ociimage"
)

// startRegistry starts the in-process registry and pushes the sandbox
// image (busybox sleeping; any process that waits forever will do).
func (n *Node) startRegistry(ctx context.Context) error {
	var err error
	if n.Registry, err = startRegistry(); err != nil {
		return err
	}
	img, err := ociimage.Busybox(SandboxImage)
	if err != nil {
		return err
	}
	img.Entrypoint, img.Cmd = []string{"/bin/sleep", "2147483647"}, nil
	built, err := ociimage.Build(img)
	if err != nil {
		return err
	}
	return n.Registry.Push(ctx, SandboxImage, built)
}

// startNetworkServices starts the cluster DNS and the apiserver forwarder on
// the bridge.
func (n *Node) startNetworkServices(ctx context.Context) error {
	var err error
	if n.DNS, err = startDNS(ctx, net.JoinHostPort(Gateway, "53"), n.Cluster.Client); err != nil {
		return err
	}
	n.forward, err = startForwarder(net.JoinHostPort(ServiceIP, "443"), "127.0.0.1:"+n.Cluster.APIServerPort())
	return err
}

// WaitTimeout is a generous default for waiting on pods.
const WaitTimeout = 2 * time.Minute
