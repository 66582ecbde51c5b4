// Package testenv starts a real, kubelet-less Kubernetes control plane (etcd +
// kube-apiserver) and the real Argo workflow-controller for tests and for the
// end-to-end harness.
//
// The binaries are built by hack/tools.sh into .tools/bin (or found through
// $KFP_PLUGIN_TOOLS). Tests that need them are skipped when they are missing,
// unless CI=true or KFP_PLUGIN_REQUIRE_TOOLS=1, where a missing tool fails the
// test: a CI run must never turn green by skipping the real components.
//
// Argo runs as v3.7.18 unless $KFP_PLUGIN_ARGO=v4 (or Options.Argo) selects
// v4.0.5, built on request by hack/tools.sh --only argo-v4 (ArgoV3, ArgoV4;
// see docs/argo-v4.md).
//
// Every process runs in its own process group with output in a log file under
// the cluster's temporary directory; Stop kills the groups and removes the
// directory (kept when KFP_TESTENV_KEEP is set), and test helpers print the
// log tails of a failed test.
package testenv
