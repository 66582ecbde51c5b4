package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// The KFP services the compiled workflows name in their driver arguments
// (and the plugin's defaults), with the ports they use.
const (
	mlmdService       = "metadata-grpc-service"
	mlmdPort          = "8080"
	mlPipelineService = "ml-pipeline"
	mlPipelinePort    = "8887"
	kfpNamespace      = "kubeflow"
)

// services are the MLMD-compatible and ml-pipeline test servers, each on
// its own loopback address (127.x.y.1 and .2, x and y random) at the port
// the workflows name, so that a played pod's /etc/hosts can map the
// cluster service names to them and the converted workflows run unchanged.
type services struct {
	MLMD       *mlmdserver.Running
	Tasks      *mlpipelinetest.Server
	MLMDIP     string
	PipelineIP string
	tasksGRPC  *grpc.Server
}

func startServices() (*services, error) {
	var lastErr error
	for range 5 { // another process may hold a port on the random address
		s, err := startServicesAt(fmt.Sprintf("127.%d.%d", 10+rand.IntN(240), 1+rand.IntN(250)))
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startServicesAt(prefix string) (*services, error) {
	s := &services{MLMDIP: prefix + ".1", PipelineIP: prefix + ".2"}
	var err error
	if s.MLMD, err = mlmdserver.Start(net.JoinHostPort(s.MLMDIP, mlmdPort)); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(s.PipelineIP, mlPipelinePort))
	if err != nil {
		s.MLMD.Stop()
		return nil, fmt.Errorf("ml-pipeline test server: %w", err)
	}
	s.Tasks = mlpipelinetest.New()
	s.tasksGRPC = grpc.NewServer()
	apipb.RegisterTaskServiceServer(s.tasksGRPC, s.Tasks)
	go func() { _ = s.tasksGRPC.Serve(lis) }()
	return s, nil
}

func (s *services) stop() {
	s.tasksGRPC.Stop()
	s.MLMD.Stop()
}

// hostsFile is the played pods' /etc/hosts: the host's own entries plus
// every spelling of the two KFP services.
func (s *services) hostsFile() ([]byte, error) {
	base, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return nil, fmt.Errorf("read /etc/hosts: %w", err)
	}
	var b strings.Builder
	b.Write(base)
	if len(base) > 0 && base[len(base)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s %s\n", s.MLMDIP, strings.Join(serviceNames(mlmdService), " "))
	fmt.Fprintf(&b, "%s %s\n", s.PipelineIP, strings.Join(serviceNames(mlPipelineService), " "))
	return []byte(b.String()), nil
}

func serviceNames(svc string) []string {
	full := svc + "." + kfpNamespace
	return []string{svc, full, full + ".svc", full + ".svc.cluster.local"}
}

// mlmdAddr and pipelineAddr are how the harness itself (outside the pods)
// reaches the servers.
func (s *services) mlmdAddr() string     { return s.MLMD.Addr }
func (s *services) pipelineAddr() string { return net.JoinHostPort(s.PipelineIP, mlPipelinePort) }
