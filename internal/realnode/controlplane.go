package realnode

import (
	"context"
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// startControlPlane runs kube-controller-manager (default service accounts,
// kube-root-ca.crt, service-account token Secrets, garbage collection,
// endpoints) and kube-scheduler, both as the admin.
func (n *Node) startControlPlane(context.Context) error {
	c := n.Cluster
	kcm, err := testenv.ToolPath(c.ToolsDir, testenv.ControllerManager)
	if err != nil {
		return err
	}
	sched, err := testenv.ToolPath(c.ToolsDir, testenv.Scheduler)
	if err != nil {
		return err
	}
	if _, err := n.startProcess("kube-controller-manager", kcm, []string{
		"--kubeconfig=" + c.KubeconfigPath,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + c.SAKeyFile(),
		"--root-ca-file=" + c.CAFile(),
		"--cluster-name=kfp-realnode",
		// Node lifecycle and the cloud/bootstrap controllers have nothing to
		// do on one static node.
		"--controllers=*,-nodelifecycle,-bootstrapsigner,-tokencleaner,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route",
		fmt.Sprintf("--concurrent-gc-syncs=%d", 5),
	}); err != nil {
		return err
	}
	_, err = n.startProcess("kube-scheduler", sched, []string{
		"--kubeconfig=" + c.KubeconfigPath,
		"--leader-elect=false",
		"--secure-port=0",
	})
	return err
}
