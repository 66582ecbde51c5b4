package standin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

// timeout bounds one launch (a held case waits in the harness).
const timeout = 3 * time.Minute

// Main runs the stand-in on the command line (without the program name)
// and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	code, err := run(ctx, args, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "kfp-launcher stand-in:", err)
		return 1
	}
	return code
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 2 && args[0] == "--copy" {
		return 0, copySelf(args[1])
	}
	flags, user := parseFlags(args)
	if isNative(flags) {
		return runNative(ctx, flags, user, stdout, stderr)
	}
	clients, err := connect(flags)
	if err != nil {
		return 1, err
	}
	defer clients.close()
	if flags["--executor_type"] == "importer" {
		return 0, importer(ctx, clients, flags)
	}
	return container(ctx, clients, flags, user, stdout, stderr)
}

// parseFlags reads "--name value" and "--name=value" up to "--"; what
// follows "--" is the user command.
func parseFlags(args []string) (map[string]string, []string) {
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, args[i+1:]
		}
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "--") {
			flags[name] = value
		} else if strings.HasPrefix(a, "--") && i+1 < len(args) {
			flags[a] = args[i+1]
			i++
		}
	}
	return flags, nil
}

// copySelf is the init container's `launcher-v2 --copy DST`.
func copySelf(dst string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

type clients struct {
	pool  *mlmd.Pool
	mlmd  *mlmd.Client
	tasks *mlpipeline.Pool
	cache *cache.Cache
	ns    string
}

// MLMDConfig is how the test side (this stand-in, the harness) talks to
// the MLMD test server: unlike the sidecar, which answers Argo "running"
// and tries again later, a launcher has nobody to hand a slow call back
// to, and a full suite on two cores can starve the server for seconds.
var MLMDConfig = mlmd.Config{RPCTimeout: 30 * time.Second, Retries: 8, Backoff: 250 * time.Millisecond}

func connect(flags map[string]string) (*clients, error) {
	c := &clients{pool: mlmd.NewPool(MLMDConfig), tasks: &mlpipeline.Pool{}, ns: podNamespace()}
	var err error
	if c.mlmd, err = c.pool.Get(mlmd.Endpoint{Host: flags["--mlmd_server_address"], Port: flags["--mlmd_server_port"]}); err != nil {
		return nil, err
	}
	if addr := flags["--ml_pipeline_server_address"]; addr != "" {
		tc, err := c.tasks.Client(mlpipeline.Options{Address: addr + ":" + flags["--ml_pipeline_server_port"]})
		if err != nil {
			return nil, err
		}
		c.cache = cache.New(tc)
	}
	return c, nil
}

func (c *clients) close() {
	_ = c.pool.Close()
	_ = c.tasks.Close()
}

// podNamespace is the pod's namespace, from its service account mount.
func podNamespace() string {
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

func parseLaunch(flags map[string]string) (*drivertest.Launch, error) {
	l := &drivertest.Launch{PipelineName: flags["--pipeline_name"], RunID: flags["--run_id"],
		Input: &pipelinespec.ExecutorInput{}, Component: &pipelinespec.ComponentSpec{}}
	var err error
	if l.ExecutionID, err = strconv.ParseInt(flags["--execution_id"], 10, 64); err != nil {
		return nil, fmt.Errorf("--execution_id: %w", err)
	}
	if err := lenient.Unmarshal([]byte(flags["--executor_input"]), l.Input); err != nil {
		return nil, fmt.Errorf("--executor_input: %w", err)
	}
	if err := lenient.Unmarshal([]byte(flags["--component_spec"]), l.Component); err != nil {
		return nil, fmt.Errorf("--component_spec: %w", err)
	}
	return l, nil
}

var errNoHarness = errors.New("harness unreachable")
