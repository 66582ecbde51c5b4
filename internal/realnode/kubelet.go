package realnode

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// kubeletConfig returns the KubeletConfiguration; each odd setting is one of
// real-node.md's blockers or keeps the node inside this machine.
func (n *Node) kubeletConfig(port, healthz int) map[string]any {
	return map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1beta1",
		"kind":       "KubeletConfiguration",
		// Reached by the apiserver as "localhost" only.
		"address":            "127.0.0.1",
		"port":               port,
		"readOnlyPort":       0,
		"healthzBindAddress": "127.0.0.1",
		"healthzPort":        healthz,
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": false},
			"x509":      map[string]any{"clientCAFile": n.Cluster.CAFile()},
		},
		"authorization":            map[string]any{"mode": "AlwaysAllow"},
		"containerRuntimeEndpoint": "unix://" + n.container.socket,
		"cgroupDriver":             "cgroupfs",
		"failCgroupV1":             false,
		"failSwapOn":               false,
		"makeIPTablesUtilChains":   false,
		"resolvConf":               "",
		"clusterDNS":               []string{Gateway},
		"clusterDomain":            ClusterDomain,
		"podLogsDir":               n.path("pod-logs"),
		"volumePluginDir":          n.path("volume-plugins"),
		// Imported and pushed images must never be collected.
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		"evictionHard": map[string]string{
			"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%",
		},
		"serializeImagePulls": false,
		"shutdownGracePeriod": "0s",
	}
}

func (n *Node) startKubelet(context.Context) error {
	c := n.Cluster
	bin, err := testenv.ToolPath(c.ToolsDir, testenv.Kubelet)
	if err != nil {
		return err
	}
	for _, d := range []string{"kubelet", "kubelet-pki", "pod-logs", "volume-plugins"} {
		if err := os.MkdirAll(n.path(d), 0o755); err != nil {
			return err
		}
	}
	// The node's identity, authorised by the Node authorizer and
	// NodeRestriction.
	cert, key, err := c.IssueClientCert(n.path("kubelet-pki"), "kubelet-client", "system:node:"+NodeName, "system:nodes")
	if err != nil {
		return err
	}
	kubeconfig := n.path("kubelet.kubeconfig")
	if err := writeCertKubeconfig(kubeconfig, c.Host, c.CAFile(), cert, key); err != nil {
		return err
	}
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return err
	}
	cfg, err := yaml.Marshal(n.kubeletConfig(ports[0], ports[1]))
	if err != nil {
		return err
	}
	if err := os.WriteFile(n.path("kubelet.yaml"), cfg, 0o644); err != nil {
		return err
	}
	_, err = n.startProcess("kubelet", bin, []string{
		"--config=" + n.path("kubelet.yaml"),
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + n.path("kubelet"),
		"--cert-dir=" + n.path("kubelet-pki"),
		"--node-ip=" + Gateway,
		"--hostname-override=" + NodeName,
		"--v=1",
	})
	return err
}

func writeCertKubeconfig(path, server, caFile, cert, key string) error {
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"clusters":        []any{map[string]any{"name": "c", "cluster": map[string]any{"server": server, "certificate-authority": caFile}}},
		"users":           []any{map[string]any{"name": "u", "user": map[string]any{"client-certificate": cert, "client-key": key}}},
		"contexts":        []any{map[string]any{"name": "c", "context": map[string]any{"cluster": "c", "user": "u"}}},
		"current-context": "c",
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// waitReady waits for the node to report Ready, and for the default
// ServiceAccount the controller-manager creates (pods need it).
func (n *Node) waitReady(ctx context.Context) error {
	var kubelet *testenv.Process
	for _, p := range n.procs {
		if p.Name == "kubelet" {
			kubelet = p
		}
	}
	client := n.Cluster.Client
	err := testenv.PollUntil(ctx, "node "+NodeName+" Ready", kubelet, func(ctx context.Context) (bool, error) {
		node, err := client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, fmt.Errorf("Ready=%s: %s", c.Status, c.Message)
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	return testenv.PollUntil(ctx, "default ServiceAccount", nil, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}
