package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/procstat"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// workflow100 is hello_world grown to 100 pipeline tasks the way KFP
// compiles them: each task a driver step and an executor step in the root
// DAG, with its component, task and container specs inlined as arguments.
func workflow100(t testing.TB) []byte {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(yamlFileJSON(t, corpusDir+"/hello_world.yaml")); err != nil {
		t.Fatal(err)
	}
	templates, _, _ := unstructured.NestedSlice(u.Object, "spec", "templates")
	for _, raw := range templates {
		tmpl := raw.(map[string]any)
		if tmpl["name"] != "root" {
			continue
		}
		dag := tmpl["dag"].(map[string]any)
		pair := dag["tasks"].([]any)
		var tasks []any
		for i := range 100 {
			for _, task := range pair {
				b, _ := json.Marshal(task)
				s := strings.ReplaceAll(string(b), "echo", fmt.Sprintf("echo-%d", i))
				var copied map[string]any
				_ = json.Unmarshal([]byte(s), &copied)
				tasks = append(tasks, copied)
			}
		}
		dag["tasks"] = tasks
	}
	_ = unstructured.SetNestedSlice(u.Object, templates, "spec", "templates")
	b, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(float64(len(sorted)-1)*p)]
}

func reportLatencies(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(percentile(d, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(d, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkAdmission100Tasks is the handler alone (decode, convert, patch,
// encode) on a 100-task KFP workflow, per admission.
func BenchmarkAdmission100Tasks(b *testing.B) {
	body := workflowReview(b, workflow100(b))
	srv := newTestServer(emptyMetadata())
	b.SetBytes(int64(len(body)))
	lat := make([]time.Duration, 0, b.N)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, WorkflowsPath, bytes.NewReader(body)))
		lat = append(lat, time.Since(start))
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"patch"`)) {
			b.Fatalf("no patch: %d %.200s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
	// CPU time per admission does not depend on what else the machine runs.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWebhookProcess runs the built binary (`kfp-driver-plugin
// webhook`, TLS from files, watching the plugin ConfigMap on a real
// kube-apiserver) and measures admissions of the 100-task workflow over
// HTTPS with a kept-alive connection, as the API server sends them, and the
// process's resident memory idle and after the load.
func BenchmarkWebhookProcess(b *testing.B) {
	c := testenv.StartCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.EnsureNamespace(ctx, webhookNamespace); err != nil {
		b.Fatal(err)
	}
	bin := buildBinary(b)
	certFile, keyFile, pool := writeServingPair(b)
	addr := freeAddrB(b)
	cmd := exec.Command(bin, "webhook", "--addr", addr, "--kubeconfig", c.KubeconfigPath, "--config-namespace", webhookNamespace,
		"--tls-cert-file", certFile, "--tls-key-file", keyFile)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	err := testenv.PollUntil(ctx, "webhook /readyz", nil, func(ctx context.Context) (bool, error) {
		resp, err := client.Get("https://" + addr + "/readyz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	idle := residentMiB(b, cmd.Process.Pid)
	body := workflowReview(b, workflow100(b))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		resp, err := client.Post("https://"+addr+WorkflowsPath, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if !bytes.Contains(out.Bytes(), []byte(`"patch"`)) {
			b.Fatalf("no patch: %.200s", out.String())
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
	b.ReportMetric(idle, "idle-rss-MiB")
	b.ReportMetric(residentMiB(b, cmd.Process.Pid), "loaded-rss-MiB")
}

func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "kfp-driver-plugin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeServingPair(b *testing.B) (string, string, *x509.CertPool) {
	b.Helper()
	iss, err := issue(time.Now(), time.Hour, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(iss.cert.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pemCert(iss.cert.Certificate[0]), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pemBlock("PRIVATE KEY", key), 0o600); err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(iss.caPEM)
	return certFile, keyFile, pool
}

func freeAddrB(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func residentMiB(b *testing.B, pid int) float64 {
	kib := procstat.RSSKiB(pid)
	if kib < 0 {
		b.Fatalf("no resident memory for pid %d", pid)
	}
	return float64(kib) / 1024
}
