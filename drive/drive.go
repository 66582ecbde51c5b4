package drive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cmdline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

// DefaultTransientBudget is how long a step keeps retrying transient errors.
const DefaultTransientBudget = 5 * time.Minute

// Env is what the process brings besides its command line.
type Env struct {
	Namespace string         // the pod's own
	Kube      kube.Interface // nil: no kfp-launcher ConfigMap, PVC steps fail
	// APIToken authenticates the native line's KFP API calls (the pod's
	// projected run token); nil sends none.
	APIToken kfpapi.TokenSource
	// MLMD and Tasks are connection pools; nil ones are created.
	MLMD  *mlmd.Pool
	Tasks *mlpipeline.Pool
	// Log receives the step's decision line; nil discards it.
	Log io.Writer
	// TransientBudget; 0 means DefaultTransientBudget.
	TransientBudget time.Duration
}

// Step is one parsed command line.
type Step struct {
	Request   *driver.Request
	Endpoints driver.Endpoints
	// Files maps each output parameter to the file it is written to.
	Files map[string]string
}

// outputFiles are the files each step type of each line writes (KFP's
// driver requires these flags for that type); the native line's DAG steps
// write their task ID where KFP 2.x's wrote the execution ID.
var outputFiles = map[driver.Line]map[driver.Type][]string{
	driver.LineMLMD: {
		driver.RootDAG:   {"execution_id_path", "iteration_count_path", "condition_path"},
		driver.DAG:       {"execution_id_path", "iteration_count_path", "condition_path"},
		driver.Container: {"cached_decision_path", "pod_spec_patch_path", "condition_path"},
	},
	driver.LineNative: {
		driver.RootDAG:   {"parent_task_id_path", "iteration_count_path", "condition_path"},
		driver.DAG:       {"parent_task_id_path", "iteration_count_path", "condition_path"},
		driver.Container: {"cached_decision_path", "pod_spec_patch_path", "condition_path"},
	},
}

// Parse reads KFP's driver command line.
func Parse(argv []string) (*Step, error) {
	flags, err := cmdline.Parse(argv)
	if err != nil {
		return nil, err
	}
	args := map[string]json.RawMessage{}
	files := map[string]string{}
	for name, value := range flags {
		if cmdline.Flags[name] == cmdline.Path {
			if value == "" {
				return nil, fmt.Errorf("flag %q: empty path", "--"+name)
			}
			files[cmdline.PathOutputs[name]] = value
			continue
		}
		args[name], _ = json.Marshal(value) // a string always encodes
	}
	req, _, err := plugin.DecodeArgs(args) // cmdline.Parse refused unknown flags
	if ae := (*plugin.ArgError)(nil); errors.As(err, &ae) {
		return nil, fmt.Errorf("flag %q: %w", "--"+ae.Arg, ae.Err)
	} else if err != nil {
		return nil, err
	}
	for _, name := range outputFiles[req.Line][req.Type] {
		if _, ok := flags[name]; !ok {
			return nil, fmt.Errorf("flag %q is required for %s", "--"+name, req.Type)
		}
	}
	o := req.Options
	ep := driver.Endpoints{
		MLMDHost: o.MLMDAddress, MLMDPort: o.MLMDPort, MetadataTLS: o.MetadataTLS,
		MLPipelineHost: o.MLPipelineAddress, MLPipelinePort: o.MLPipelinePort, MLPipelineTLS: o.MLPipelineTLS,
	}
	if o.CACertPath != "" {
		ep.LauncherCACertPaths = []string{o.CACertPath}
	}
	if err := ep.Validate(); err != nil {
		return nil, fmt.Errorf("endpoint flags: %w", err)
	}
	return &Step{Request: req, Endpoints: ep, Files: files}, nil
}

// Run parses argv, runs the step and writes its output files.
func Run(ctx context.Context, argv []string, env Env) (*driver.Result, error) {
	step, err := Parse(argv)
	if err != nil {
		return nil, err
	}
	// The kubelet expanded --namespace $(NAMESPACE); another value fails.
	if err := plugin.BindNamespace(step.Request, env.Namespace); err != nil {
		return nil, fmt.Errorf("flag \"--namespace\": %w", errors.Unwrap(err))
	}
	if env.MLMD == nil {
		env.MLMD = mlmd.NewPool(mlmd.Config{})
		defer env.MLMD.Close()
	}
	if env.Tasks == nil {
		env.Tasks = &mlpipeline.Pool{}
		defer env.Tasks.Close()
	}
	if err := loadCA(&step.Endpoints, step.Request.Options.CACertPath); err != nil {
		return nil, err
	}
	svc := flow.New(flow.Deps{Kube: env.Kube, MLMD: env.MLMD, Tasks: env.Tasks, Endpoints: step.Endpoints, APIToken: env.APIToken})
	res, err := runWithRetries(ctx, svc, step.Request, env)
	if err != nil {
		return nil, err
	}
	if err := writeOutputs(step.Files, res.Outputs(step.Request.Type)); err != nil {
		return nil, err
	}
	if env.Log != nil {
		fmt.Fprintln(env.Log, res.Message)
	}
	return res, nil
}

// loadCA reads the CA bundle at path into ep when a service is reached
// over TLS, as KFP's driver builds its TLS configuration.
func loadCA(ep *driver.Endpoints, path string) error {
	if path == "" || (!ep.MetadataTLS && !ep.MLPipelineTLS) {
		return nil
	}
	pem, err := plugin.ReadCAFile(path)
	if err != nil {
		return fmt.Errorf("flag --ca_cert_path: %w", err)
	}
	ep.CAPEM = pem
	return nil
}

// runWithRetries repeats a step that failed transiently, with a doubling
// wait, until the budget is spent.
func runWithRetries(ctx context.Context, d driver.Driver, req *driver.Request, env Env) (*driver.Result, error) {
	budget := env.TransientBudget
	if budget <= 0 {
		budget = DefaultTransientBudget
	}
	deadline := time.Now().Add(budget)
	wait := 500 * time.Millisecond
	for {
		res, err := d.Run(ctx, req)
		if err == nil || !driver.IsTransient(err) {
			return res, err
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("still failing after %s: %w", budget, err)
		}
		if env.Log != nil {
			fmt.Fprintf(env.Log, "transient failure, retrying in %s: %v\n", wait, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// writeOutputs writes each output that has a file, without a trailing
// newline, creating parent directories; outputs without one are dropped
// (their template declares a default).
func writeOutputs(files, outputs map[string]string) error {
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path, ok := files[name]
		if !ok {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("output %s: %w", name, err)
		}
		if err := os.WriteFile(path, []byte(outputs[name]), 0o644); err != nil {
			return fmt.Errorf("output %s: %w", name, err)
		}
	}
	return nil
}
