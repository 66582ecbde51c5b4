// Package e2e runs KFP-compiled workflows through real components on real
// pods: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a
// kubelet with containerd and runc (internal/testenv, internal/realnode),
// Argo's workflow-controller, the real argo CLI, and our plugin installed
// from manifests/: the standalone overlay in the KFP namespace, the profile
// controller's children in every other (profile) namespace.
//
// Workflows are created as KFP's API server creates them and our admission
// webhook converts them (its namespace selector is the multi-user
// overlay's, and the KFP namespace carries the label); one case opts its
// namespace out and goes through `kfp-driver-plugin convert` instead.
//
// The agent pod is the one Argo's controller creates, with our sidecar
// image (the `make image` tarball, imported into containerd) from the
// plugin ConfigMap exactly as installed. Every pod runs as the account an
// install gives it; no pod has admin credentials.
//
// Executor pods run for real, user code included. The launcher image the
// compiled workflows name runs our launcher stand-in (package e2e/standin);
// every user image is a busybox userland with the host's Python and our
// stand-in of the KFP SDK's run-time half (package e2e/kfpsdk), so
// container components and Python-function components run their own code.
// Where a task needs what the image lacks (pandas, gsutil: exit 127) the
// stand-in publishes the outputs the case's Behaviour gives. The
// MLMD-compatible and ml-pipeline test servers and the harness (behaviours,
// an artifact store, what each container saw from inside) listen on the
// node bridge's host address behind Services in the KFP namespace, which
// the node's DNS resolves.
//
// Two stacks, one per suite run (one node per machine): KFP 2.x's MLMD
// line on Argo v3.7.18 (the default), and with $KFP_PLUGIN_ARGO=v4 KFP
// master's native line on Argo v4.0.5 (Options.Argo; its controller,
// argoexec, CRDs and argo CLI). The native stack runs the corpus cases
// whose workflow KFP master compiled too (convert/testdata/native), with
// their parameters, behaviours and checks, under TestEndToEnd/cases/native/:
// the webhook converts them (the stack installs it with
// --convert-native-line); the ml-pipeline test server serves KFP master's
// v2beta1 run, artifact and pipeline services (kfpapitest) beside the v1
// TaskService, at the address the plugin's --ml-pipeline-* flags name,
// authenticating every call by TokenReview as KFP master's does (the
// plugin's TokenRequest tokens, the launcher's projected one); a
// run is stored there as KFP's API server stores it (run ID = workflow UID,
// its pipeline spec, runtime config, namespace) while the workflow is held
// suspended, then resumed (RunNative); the launcher stand-in publishes
// through the API server (package kfpapi/publish). Every native case also
// checks each launch against its API server task (state, recorded inputs
// = the executor input's); a cache case runs parameter_cache twice (the
// second run's tasks CACHED through FindCachedTask, no executor pod), and
// an observe case reads the driver's decision in the v4 CLI's argo get.
package e2e
