package e2e

import (
	"fmt"
	"net"

	"google.golang.org/grpc"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/realnode"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// The KFP services the compiled workflows name in their driver and
// launcher arguments (and the plugin's defaults), with their ports. The
// test servers listen on the node bridge's host address at these ports;
// Services of these names in kfpNamespace have that address as endpoint,
// so pods resolve and reach them as in a KFP install.
const (
	mlmdService       = "metadata-grpc-service"
	mlmdPort          = 8080
	mlPipelineService = "ml-pipeline"
	mlPipelinePort    = 8887
	kfpNamespace      = KFPNamespace
)

// KFPNamespace is where KFP (and Argo's controller) is installed; workflows
// created there go through the standalone install's admission webhook.
const KFPNamespace = "kubeflow"

// services are the MLMD-compatible and ml-pipeline test servers. The
// ml-pipeline gRPC server serves KFP 2.x's v1 TaskService (the cache) and,
// beside it, KFP master's v2beta1 run, artifact and pipeline services (the
// native line's records), as one KFP API server does.
type services struct {
	MLMD      *mlmdserver.Running
	Tasks     *mlpipelinetest.Server
	API       *kfpapitest.Server
	tasksGRPC *grpc.Server
}

// startServices starts the test servers; auth, when set, authenticates the
// ml-pipeline server's calls (the native stack's KFP TokenReview).
func startServices(auth kfpapitest.Authenticator) (*services, error) {
	s := &services{}
	var err error
	if s.MLMD, err = mlmdserver.Start(hostAddr(mlmdPort)); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", hostAddr(mlPipelinePort))
	if err != nil {
		s.MLMD.Stop()
		return nil, fmt.Errorf("ml-pipeline test server: %w", err)
	}
	s.Tasks = mlpipelinetest.New()
	s.API = kfpapitest.New(kfpapitest.Options{Authenticate: auth})
	s.tasksGRPC = s.API.GRPCServer()
	apipb.RegisterTaskServiceServer(s.tasksGRPC, s.Tasks)
	go func() { _ = s.tasksGRPC.Serve(lis) }()
	return s, nil
}

func (s *services) stop() {
	s.tasksGRPC.Stop()
	s.MLMD.Stop()
}

// hostAddr is port on the node bridge's host address.
func hostAddr(port int) string { return net.JoinHostPort(realnode.Gateway, fmt.Sprint(port)) }
