// Package realnode runs a real single-node Kubernetes data plane for tests:
// containerd with runc, a kubelet, kube-controller-manager and
// kube-scheduler, beside the etcd + kube-apiserver of internal/testenv (started
// with Options.ForNode). Pods are real: real containers in real network
// namespaces, created by the kubelet through CRI.
//
// The settings follow the measurements in shared/design/real-node.md (each
// was a blocker on these machines): containerd with restrict_oom_score_adj,
// cgroupfs and no AppArmor; a kubelet tolerating cgroup v1, without iptables
// chains or a host resolv.conf; the node IP on a bridge of our own (the
// kubelet refuses loopback) with the node named "localhost", so that the
// apiserver reaches the kubelet on 127.0.0.1.
//
// Networking stays on this machine: the CNI bridge plugin runs with
// isGateway and ipMasq off, so ip_forward stays 0, no iptables rule is
// written and pods have no default route. Pods reach exactly
//   - the host's bridge address (Gateway), where tests serve what pods
//     need (the MLMD test server, an artifact store, ...);
//   - the kubernetes Service address (ServiceIP, on the bridge too), which a
//     TCP forwarder in the test process connects to the apiserver on
//     127.0.0.1, so in-cluster clients work unchanged;
//   - each other.
//
// Names resolve through a small DNS server on the bridge (the node's
// clusterDNS): the kubernetes Service, and every other Service by its
// endpoints (there is no kube-proxy, so a Service is reached at its
// endpoints' addresses on the Service's port). Nothing is forwarded upstream.
//
// Images are never pulled from outside: a registry in the test process
// (go-containerregistry's in-memory registry) serves every image the tests
// push, and containerd's registry mirrors send every registry host a test
// names to it, so pull policies (Always for :latest) behave as in a cluster.
// Tarballs can also be imported into containerd directly (ImportImage).
//
// One node per machine (cgroup and shim paths are fixed): Start takes a
// machine-wide lock, so test packages that need a node run one after
// another. Stop deletes every pod first (so CNI cleans up), stops the
// processes, unmounts, removes the cgroup directories, state and the bridge,
// and returns an error for anything it finds left behind.
package realnode
