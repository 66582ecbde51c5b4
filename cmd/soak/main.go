// Command soak drives a real `kfp-driver-plugin serve` process the way
// Argo's agents would, for a bounded time: many concurrent callers walking
// real KFP pipeline specs (every call repeated, some sent twice at once),
// plus a share of malformed and hostile calls, against the in-memory MLMD
// and ml-pipeline test servers. Everything listens on 127.0.0.1 only.
//
//	go run ./cmd/soak -binary bin/kfp-driver-plugin -minutes 2   (make soak)
//
// It prints calls/s, p50/p99 per driver type, the sidecar's RSS and
// goroutines over time, and the duplicate executions found in MLMD (must
// be 0). It exits non-zero when a check fails: duplicates, a 5xx other than
// 503, a hostile call answered Succeeded, differing replies to identical
// calls, or a walk that failed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
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

type options struct {
	binary   string
	minutes  float64
	callers  int
	maxRuns  int64
	badEvery int
	sample   time.Duration
	specs    string
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/kfp-driver-plugin", "the kfp-driver-plugin binary to run as `serve`")
	flag.Float64Var(&o.minutes, "minutes", 2, "how long to drive it")
	flag.IntVar(&o.callers, "callers", 16, "concurrent callers")
	flag.Int64Var(&o.maxRuns, "max-runs", 50000, "stop after this many pipeline runs even if time is left")
	flag.IntVar(&o.badEvery, "bad-every", 10, "each caller sends a burst of malformed or hostile calls after every N runs")
	flag.DurationVar(&o.sample, "sample", 10*time.Second, "how often RSS and goroutines are sampled")
	flag.StringVar(&o.specs, "specs", "driver/testdata/pipelines", "directory of the real KFP pipeline specs")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// services are the test servers the sidecar is pointed at.
type services struct {
	mlmd     *mlmdserver.Running
	tasks    *grpc.Server
	taskAddr string
}

func startServices() (*services, error) {
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
	return &services{mlmd: m, tasks: gs, taskAddr: lis.Addr().String()}, nil
}

func (s *services) stop() { s.tasks.Stop(); s.mlmd.Stop() }

// sidecar is the serve process under test.
type sidecar struct {
	cmd   *exec.Cmd
	url   string
	token string
	log   string
}

func startSidecar(ctx context.Context, binary string, svc *services, dir string) (*sidecar, error) {
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s := &sidecar{token: hex.EncodeToString(tok), log: filepath.Join(dir, "serve.log")}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(s.token), 0o440); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mhost, mport, _ := net.SplitHostPort(svc.mlmd.Addr)
	phost, pport, _ := net.SplitHostPort(svc.taskAddr)
	logFile, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.CommandContext(ctx, binary, "serve", "--addr=127.0.0.1:"+strconv.Itoa(port), "--token-file="+tokenFile,
		"--mlmd-address="+mhost, "--mlmd-port="+mport, "--ml-pipeline-address="+phost, "--ml-pipeline-port="+pport)
	s.cmd.Env = append(os.Environ(), "POD_NAMESPACE="+namespace)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	s.url = "http://127.0.0.1:" + strconv.Itoa(port)
	return s, waitReady(s.url+"/readyz", 15*time.Second)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("serve did not become ready within " + within.String())
}
