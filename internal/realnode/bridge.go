package realnode

import (
	"context"
	"fmt"
	"net"
)

// startBridge creates the node's bridge with the gateway and the kubernetes
// Service address. A bridge left by a crashed run is replaced.
func (n *Node) startBridge(context.Context) error {
	if _, err := net.InterfaceByName(BridgeName); err == nil {
		if err := run("ip", "link", "del", BridgeName); err != nil {
			return err
		}
	}
	n.bridge = true
	for _, args := range [][]string{
		{"link", "add", BridgeName, "type", "bridge"},
		{"addr", "add", Gateway + "/24", "dev", BridgeName},
		{"addr", "add", ServiceIP + "/32", "dev", BridgeName},
		{"link", "set", BridgeName, "up"},
	} {
		if err := run("ip", args...); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) deleteBridge() error {
	if !n.bridge {
		return nil
	}
	if _, err := net.InterfaceByName(BridgeName); err != nil {
		return nil
	}
	if err := run("ip", "link", "del", BridgeName); err != nil {
		return fmt.Errorf("delete bridge: %w", err)
	}
	return nil
}
