// Package loopback runs a real `kfp-driver-plugin serve` process against
// the in-memory MLMD and ml-pipeline test servers, all on 127.0.0.1, the
// way the load tools (cmd/soak, cmd/bench) drive it (internal/procstat
// measures the process).
package loopback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"google.golang.org/grpc"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// Services are the test servers a sidecar is pointed at.
type Services struct {
	MLMD     *mlmdserver.Running
	TaskAddr string // the ml-pipeline TaskService (cache look-ups)
	tasks    *grpc.Server
}

// StartServices serves a fresh MLMD test server and an ml-pipeline task
// service on loopback ports.
func StartServices() (*Services, error) {
	m, err := mlmdserver.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		m.Stop()
		return nil, err
	}
	gs := grpc.NewServer()
	apipb.RegisterTaskServiceServer(gs, mlpipelinetest.New())
	go gs.Serve(lis)
	return &Services{MLMD: m, tasks: gs, TaskAddr: lis.Addr().String()}, nil
}

// Stop stops both servers.
func (s *Services) Stop() { s.tasks.Stop(); s.MLMD.Stop() }

// Sidecar is a serve process under test.
type Sidecar struct {
	Cmd     *exec.Cmd
	URL     string        // http://127.0.0.1:port
	Token   string        // the bearer token it accepts
	Log     string        // its stdout and stderr
	ToReady time.Duration // from exec until /readyz answered 200
}

// SidecarOptions are what a load run varies about the serve process.
type SidecarOptions struct {
	Namespace string   // POD_NAMESPACE: the namespace every call must name
	Args      []string // flags after the endpoints'
	Env       []string // added to this process's environment
}

// StartSidecar execs `binary serve` pointed at svc, with its token and log
// in dir, and returns once /readyz answers 200. The process is killed when
// ctx ends.
func StartSidecar(ctx context.Context, binary string, svc *Services, dir string, o SidecarOptions) (*Sidecar, error) {
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s := &Sidecar{Token: hex.EncodeToString(tok), Log: filepath.Join(dir, "serve.log")}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(s.Token), 0o440); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	mhost, mport, _ := net.SplitHostPort(svc.MLMD.Addr)
	phost, pport, _ := net.SplitHostPort(svc.TaskAddr)
	logFile, err := os.Create(s.Log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := append([]string{"serve", "--addr=127.0.0.1:" + strconv.Itoa(port), "--token-file=" + tokenFile,
		"--mlmd-address=" + mhost, "--mlmd-port=" + mport, "--ml-pipeline-address=" + phost, "--ml-pipeline-port=" + pport}, o.Args...)
	s.Cmd = exec.CommandContext(ctx, binary, args...)
	s.Cmd.Env = append(append(os.Environ(), "POD_NAMESPACE="+o.Namespace), o.Env...)
	s.Cmd.Stdout, s.Cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := s.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(s.URL+"/readyz", 15*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	s.ToReady = time.Since(start)
	return s, nil
}

// Stop interrupts the process (it drains as on SIGTERM) and waits for it.
func (s *Sidecar) Stop() {
	_ = s.Cmd.Process.Signal(os.Interrupt)
	_ = s.Cmd.Wait()
}

// FreePort is a TCP port on 127.0.0.1 free at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(url string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	return errors.New("serve did not become ready within " + within.String())
}

// Forwarder is an http.Handler that sends each request on to the sidecar
// over loopback, so in-process test drivers (plugintest.HTTPDriver) reach
// the real process.
type Forwarder struct {
	URL    string
	Client *http.Client
}

func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, f.URL+r.URL.Path, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := f.Client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
