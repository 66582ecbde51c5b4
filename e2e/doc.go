// Package e2e runs KFP-compiled workflows, converted by `kfp-driver-plugin
// convert`, through real components on real pods: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and a kubelet with containerd and
// runc (internal/testenv, internal/realnode), Argo's workflow-controller,
// the real argo CLI, and our plugin installed from manifests/: the
// standalone overlay in the KFP namespace, the profile controller's
// children in every other (profile) namespace.
//
// The agent pod is the one Argo's controller creates, with our sidecar
// image (the `make image` tarball, imported into containerd) from the
// plugin ConfigMap exactly as installed. Every pod runs as the account an
// install gives it; no pod has admin credentials.
//
// Executor pods run for real. The launcher image the compiled workflows
// name runs our launcher stand-in (package e2e/standin): it runs the user
// command where the busybox userland can (container components) and
// publishes what it produced to MLMD as KFP's launcher does; for
// Python-function components (no KFP SDK here) it publishes the outputs the
// case's Behaviour gives. The MLMD-compatible and ml-pipeline test servers
// and the harness (behaviours, an artifact store) listen on the node
// bridge's host address behind Services in the KFP namespace, which the
// node's DNS resolves.
package e2e
