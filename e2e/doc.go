// Package e2e runs KFP-compiled workflows, converted by `kfp-driver-plugin
// convert`, through real components: etcd, kube-apiserver and Argo's
// workflow-controller (internal/testenv), our plugin ConfigMap and RBAC,
// the MLMD-compatible and ml-pipeline test servers, and the real argo CLI.
//
// There is no kubelet, so the harness plays the pods:
//   - agent pods: bound to a stand-in node, each gets a private mount
//     namespace (unshare, tmpfs on /run, the pod's /etc/hosts) where
//     `argoexec agent init` writes the plugin token, our real `serve`
//     binary runs with the sidecar's args and env, and `argoexec agent
//     main` runs with the pod's env; a kubelet stand-in serves their logs
//     to the apiserver, so `argo logs` works;
//   - executor pods: the launcher stand-in (driver/drivertest) publishes
//     the task's outputs into MLMD from the executor input the driver put
//     in the pod spec patch, then the pod is reported finished (a
//     completed WorkflowTaskResult, as Argo's wait container writes, and
//     pods/status).
//
// Every process runs in its own process group; Stack.Stop kills them all
// and checks that none is left.
package e2e
