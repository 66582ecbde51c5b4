package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/procstat"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// builtBinary builds the plugin the way the Makefile does, once per run.
func builtBinary(b *testing.B) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kfp-driver-plugin-bench")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kfp-driver-plugin")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return binPath
}

func freeAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe execs `serve` and returns once /readyz answers 200.
func startServe(b *testing.B, bin, token string) (*exec.Cmd, string, time.Duration) {
	addr := freeAddr(b)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--token-file", token)
	cmd.Env = append(os.Environ(), "POD_NAMESPACE=bench")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := start.Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, addr, time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			b.Fatalf("not ready after 10s: %v", err)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
}

func tokenFile(b *testing.B) string {
	p := filepath.Join(b.TempDir(), "token")
	if err := os.WriteFile(p, []byte("benchtoken"), 0o400); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkStartupToReady measures exec until /readyz answers 200: Argo's
// agent starts calling together with the sidecar and only retries ~15 s.
func BenchmarkStartupToReady(b *testing.B) {
	bin, token := builtBinary(b), tokenFile(b)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd, _, d := startServe(b, bin, token)
		total += d
		b.StopTimer()
		stop(cmd)
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-ready")
}

// BenchmarkIdleRSS reports the resident memory of a ready, idle sidecar.
func BenchmarkIdleRSS(b *testing.B) {
	bin, token := builtBinary(b), tokenFile(b)
	var rss float64
	for i := 0; i < b.N; i++ {
		cmd, _, _ := startServe(b, bin, token)
		rss += residentMiB(b, cmd.Process.Pid)
		stop(cmd)
	}
	b.ReportMetric(rss/float64(b.N), "rss-MiB")
}

func residentMiB(b *testing.B, pid int) float64 {
	kib := procstat.RSSKiB(pid)
	if kib < 0 {
		b.Fatalf("no resident memory for pid %d", pid)
	}
	return float64(kib) / 1024
}
