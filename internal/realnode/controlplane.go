package realnode

import (
	"context"

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
