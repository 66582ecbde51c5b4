package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// startAPIServer runs kube-apiserver against c.EtcdURL with the flags that
// work without kubelets and controllers (see the local-control-plane design
// note), and waits until /readyz answers ok.
func (c *Cluster) startAPIServer(ctx context.Context, extra []string) error {
	return retryOnPortClash(func() (*Process, error) {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		c.Host = fmt.Sprintf("https://127.0.0.1:%d", ports[0])
		c.Client = nil // built for the new address by apiServerReady
		p, err := c.start(KubeAPIServer, append(c.apiServerArgs(ports[0]), extra...), nil)
		if err != nil {
			return nil, err
		}
		return p, pollUntil(ctx, "kube-apiserver /readyz", p, c.apiServerReady)
	})
}

func (c *Cluster) apiServerArgs(port int) []string {
	return []string{
		"--etcd-servers=" + c.EtcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir=" + filepath.Join(c.Dir, "apiserver-certs"),
		"--tls-cert-file=" + c.pki.CertFile,
		"--tls-private-key-file=" + c.pki.KeyFile,
		"--client-ca-file=" + c.pki.CAFile,
		"--token-auth-file=" + c.pki.TokenFile,
		"--authorization-mode=RBAC",
		"--service-account-key-file=" + c.pki.SAKeyFile,
		"--service-account-signing-key-file=" + c.pki.SAKeyFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		// No token controller runs, so the ServiceAccount admission plugin
		// would reject every pod whose service account has no token.
		"--disable-admission-plugins=ServiceAccount",
		// No kubelet or real endpoints: do not publish 127.0.0.1 as the
		// kubernetes service endpoint.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
}

// apiServerReady checks /readyz with the admin token, then that the default
// namespace exists (created just after readiness by a bootstrap controller;
// tests often write there first).
func (c *Cluster) apiServerReady(ctx context.Context) (bool, error) {
	if err := c.getReadyz(ctx); err != nil {
		return false, err
	}
	if c.Client == nil {
		if err := c.connect(); err != nil {
			return false, err
		}
	}
	_, err := c.Client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	return err == nil, err
}

func (c *Cluster) getReadyz(ctx context.Context) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.pki.CAPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.pki.AdminToken)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	return nil
}
