package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// NodeName is the one Node the harness registers: played agent pods are
// bound to it so that the apiserver can find their logs.
const NodeName = "kfp-e2e-node"

// kubelet is the part of a kubelet that `argo logs` needs: the apiserver
// proxies GET pods/log to https://<node InternalIP>:<kubelet port>/
// containerLogs/<ns>/<pod>/<container> (it skips verifying the kubelet's
// certificate when started without --kubelet-certificate-authority, as
// testenv starts it), and this server answers from the log files of the
// played containers. Without it a pod has no node and the apiserver
// returns empty logs.
type kubelet struct {
	srv  *http.Server
	port int
	mu   sync.Mutex
	logs map[string]string // "<ns>/<pod>/<container>" -> log file
}

func startKubelet() (*kubelet, error) {
	cert, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("kubelet stand-in: %w", err)
	}
	k := &kubelet{port: ln.Addr().(*net.TCPAddr).Port, logs: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.containerLogs)
	k.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = k.srv.Serve(ln) }()
	return k, nil
}

func (k *kubelet) stop() { _ = k.srv.Close() }

// setLog registers where a container's output goes.
func (k *kubelet) setLog(ns, pod, container, path string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logs[ns+"/"+pod+"/"+container] = path
}

// containerLogs serves the whole log (follow, tailLines and since are not
// needed by the harness's checks and are ignored).
func (k *kubelet) containerLogs(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("ns") + "/" + r.PathValue("pod") + "/" + r.PathValue("container")
	k.mu.Lock()
	path, ok := k.logs[key]
	k.mu.Unlock()
	if !ok {
		http.Error(w, "container "+key+" not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if err := copyLog(w, path, r.URL.Query().Get("timestamps") == "true"); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// register creates the Node with our address and port in its status.
func (k *kubelet) register(ctx context.Context, c kubernetes.Interface) error {
	node, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: NodeName}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("node %s: %w", NodeName, err)
	}
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.port)}},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletStandIn", LastHeartbeatTime: metav1.Now()}},
	}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s status: %w", NodeName, err)
	}
	return nil
}

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: NodeName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet cert: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
