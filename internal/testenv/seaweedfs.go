package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Weed is SeaweedFS's binary (hack/tools.sh builds it).
const Weed = "weed"

// SeaweedFS is a real SeaweedFS server: master, volume server, filer, S3
// and IAM APIs in one weed process, with an admin identity. Its data dir
// is thrown away at Stop.
type SeaweedFS struct {
	S3URL  string // http://IP:port
	IAMURL string
	// The admin identity (every action allowed).
	AdminAccessKey, AdminSecretKey string
	Process                        *Process
	dir                            string
	// sockets weed creates in /tmp whatever its flags say, one per gRPC
	// port; Stop removes them.
	sockets []string
}

// SeaweedFSOptions: ToolsDir "" means Tools(); BindIP defaults to 127.0.0.1 (the e2e suite binds a
// bridge address pods reach); S3Port 0 picks a free port.
type SeaweedFSOptions struct {
	ToolsDir string
	Dir      string
	BindIP   string
	S3Port   int
}

// StartSeaweedFS starts weed server and waits until S3 and IAM answer.
func StartSeaweedFS(ctx context.Context, opts SeaweedFSOptions) (*SeaweedFS, error) {
	if opts.ToolsDir == "" {
		dir, err := Tools()
		if err != nil {
			return nil, err
		}
		opts.ToolsDir = dir
	}
	bin, err := ToolPath(opts.ToolsDir, Weed)
	if err != nil {
		return nil, err
	}
	ip := opts.BindIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "seaweedfs-"); err != nil {
			return nil, fmt.Errorf("seaweedfs data dir: %w", err)
		}
	}
	s := &SeaweedFS{dir: dir, AdminAccessKey: "admin-" + randomHex(6), AdminSecretKey: randomHex(20)}
	err = retryOnPortClash(func() (*Process, error) {
		ports, err := freePorts(9)
		if err != nil {
			return nil, err
		}
		s3, iamPort := ports[7], ports[8]
		if opts.S3Port != 0 {
			s3 = opts.S3Port
		}
		p := func(i int) string { return strconv.Itoa(ports[i]) }
		// -logtostderr: into weed.log, not files in /tmp left behind.
		args := []string{"-logtostderr", "server", "-dir=" + filepath.Join(dir, "data"), "-ip=" + ip, "-ip.bind=" + ip,
			"-master.port=" + p(0), "-master.port.grpc=" + p(1), "-master.volumePreallocate=false", "-master.volumeSizeLimitMB=64",
			"-volume.port=" + p(2), "-volume.port.grpc=" + p(3), "-volume.max=0", "-volume.preStopSeconds=0",
			"-filer", "-filer.port=" + p(4), "-filer.port.grpc=" + p(5),
			"-s3", "-s3.port=" + strconv.Itoa(s3), "-s3.port.grpc=" + p(6), "-s3.port.iceberg=0", "-s3.port.lance=0",
			"-iam", "-iam.port=" + strconv.Itoa(iamPort),
			// Inside the data dir, not /tmp: weed does not remove them on SIGKILL.
			"-filer.localSocket=" + filepath.Join(dir, "filer.sock"), "-s3.localSocket=" + filepath.Join(dir, "s3.sock"),
		}
		for name, i := range map[string]int{"master": 1, "volume": 3, "filer": 5, "s3": 6} {
			s.sockets = append(s.sockets, fmt.Sprintf("/tmp/seaweedfs-%s-grpc-%d.sock", name, ports[i]))
		}
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			return nil, fmt.Errorf("seaweedfs data dir: %w", err)
		}
		env := []string{"AWS_ACCESS_KEY_ID=" + s.AdminAccessKey, "AWS_SECRET_ACCESS_KEY=" + s.AdminSecretKey}
		proc, err := startProcess(Weed, filepath.Join(dir, "weed.log"), bin, args, env)
		if err != nil {
			return nil, err
		}
		s.Process = proc
		s.S3URL = "http://" + net.JoinHostPort(ip, strconv.Itoa(s3))
		s.IAMURL = "http://" + net.JoinHostPort(ip, strconv.Itoa(iamPort))
		return proc, pollUntil(ctx, "seaweedfs S3 and IAM", proc, s.ready)
	})
	if err != nil {
		if s.Process != nil {
			_ = s.Stop()
		}
		return nil, err
	}
	return s, nil
}

// ready: S3's /status answers 200 and the IAM port accepts connections.
func (s *SeaweedFS) ready(ctx context.Context) (bool, error) {
	if err := getOK(ctx, s.S3URL+"/status"); err != nil {
		return false, err
	}
	conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", s.IAMURL[len("http://"):])
	if err != nil {
		return false, err
	}
	conn.Close()
	return true, nil
}

// Stop kills weed (its SIGTERM takes tens of seconds and the data is thrown
// away) and removes the data dir.
func (s *SeaweedFS) Stop() error {
	err := s.Process.Stop(0)
	for _, sock := range s.sockets {
		if rmErr := os.Remove(sock); err == nil && rmErr != nil && !os.IsNotExist(rmErr) {
			err = rmErr
		}
	}
	if os.Getenv("KFP_TESTENV_KEEP") == "" {
		if rmErr := os.RemoveAll(s.dir); err == nil {
			err = rmErr
		}
	}
	return err
}

// StartSeaweedFSFor starts a server for one test and stops it in
// t.Cleanup; a missing weed binary skips the test unless tools are
// required.
func StartSeaweedFSFor(t testing.TB) *SeaweedFS {
	t.Helper()
	tools := RequireTools(t, Weed)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := StartSeaweedFS(ctx, SeaweedFSOptions{ToolsDir: tools, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("weed log:\n%s", s.Process.Tail(40))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop seaweedfs: %v", err)
		}
	})
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
