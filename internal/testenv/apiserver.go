package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// startAPIServer runs kube-apiserver against c.EtcdURL with the flags that
// work without kubelets and controllers (see the local-control-plane design
// note), and waits until /readyz answers ok.
func (c *Cluster) startAPIServer(ctx context.Context, extra []string, forNode bool) error {
	return retryOnPortClash(func() (*Process, error) {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		c.Host = fmt.Sprintf("https://127.0.0.1:%d", ports[0])
		c.Client = nil // built for the new address by apiServerReady
		p, err := c.start(KubeAPIServer, append(c.apiServerArgs(ports[0], forNode), extra...), nil)
		if err != nil {
			return nil, err
		}
		return p, pollUntil(ctx, "kube-apiserver /readyz", p, c.apiServerReady)
	})
}

func (c *Cluster) apiServerArgs(port int, forNode bool) []string {
	authz, admission := "--authorization-mode=RBAC",
		// No token controller runs, so the ServiceAccount admission plugin
		// would reject every pod whose service account has no token.
		"--disable-admission-plugins=ServiceAccount"
	if forNode {
		// A real kubelet and kube-controller-manager run: pods get their
		// service account checked and tokens projected as in any cluster.
		authz, admission = "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction"
	}
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
		authz,
		"--service-account-key-file=" + c.pki.SAKeyFile,
		"--service-account-signing-key-file=" + c.pki.SAKeyFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		admission,
		// No kubelet or real endpoints: do not publish 127.0.0.1 as the
		// kubernetes service endpoint.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
}

// apiServerReady checks /readyz with the admin token, then that the default
// namespace exists (created just after readiness by a bootstrap controller;
// tests often write there first).
// nodeAPIServerFlags issues the apiserver's kubelet client certificate and
// returns the flags a real node needs. Kubelets are reached by host name
// ("localhost"), so that logs, exec and port-forward stay on loopback.
func (c *Cluster) nodeAPIServerFlags() ([]string, error) {
	cert, key := filepath.Join(c.pki.dir, "apiserver-kubelet-client.crt"), filepath.Join(c.pki.dir, "apiserver-kubelet-client.key")
	if err := c.pki.issueClientCert(cert, key, "kube-apiserver-kubelet-client", "system:masters"); err != nil {
		return nil, err
	}
	return []string{
		"--kubelet-client-certificate=" + cert,
		"--kubelet-client-key=" + key,
		"--kubelet-preferred-address-types=Hostname",
		// No kube-proxy: admission webhooks and aggregated APIs behind a
		// Service are called at its endpoints (pod IPs on the node bridge).
		"--enable-aggregator-routing=true",
	}, nil
}

// IssueClientCert writes a client certificate (cert and key files in dir,
// named after file) for user cn in groups orgs, trusted by the apiserver.
func (c *Cluster) IssueClientCert(dir, file, cn string, orgs ...string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, file+".crt"), filepath.Join(dir, file+".key")
	return certFile, keyFile, c.pki.issueClientCert(certFile, keyFile, cn, orgs...)
}

// CAFile is the cluster CA certificate (signs serving and client certs).
func (c *Cluster) CAFile() string { return c.pki.CAFile }

// SAKeyFile is the service-account token signing key.
func (c *Cluster) SAKeyFile() string { return c.pki.SAKeyFile }

// APIServerPort is the apiserver's port on 127.0.0.1.
func (c *Cluster) APIServerPort() string { return c.Host[strings.LastIndex(c.Host, ":")+1:] }

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
