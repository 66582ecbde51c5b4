package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// PluginConfigMapFile is the plugin ConfigMap the manifests install (what
// `convert --plugin-configmap` reads).
const PluginConfigMapFile = "manifests/base/plugin-configmap.yaml"

// CorpusDir holds the real KFP-compiled workflows, relative to the repo.
const CorpusDir = "convert/testdata/compiled-workflows"

// Convert runs the real `convert` command on a KFP-compiled workflow (with
// the plugin ConfigMap, as the README says) and decodes the result. file is
// a corpus file name, or an absolute path.
func (s *Stack) Convert(ctx context.Context, file string) (*wfv1.Workflow, error) {
	path, err := corpusPath(file)
	if err != nil {
		return nil, err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	cm := filepath.Join(root, PluginConfigMapFile)
	cmd := exec.CommandContext(ctx, s.PluginBin, "convert", "-f", path, "--plugin-configmap", cm)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("convert %s: %w: %s", file, err, stderr.String())
	}
	var wf wfv1.Workflow
	if err := yaml.UnmarshalStrict(stdout.Bytes(), &wf); err != nil {
		return nil, fmt.Errorf("decode converted %s: %w", file, err)
	}
	return &wf, nil
}

// corpusPath is file in the corpus, or file itself when absolute (a
// derived workflow).
func corpusPath(file string) (string, error) {
	if filepath.IsAbs(file) {
		return file, nil
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, CorpusDir, file), nil
}

// SetRuntimeParameters merges values into the runtime config the root
// driver gets, as KFP's API server does when it creates a run with
// parameters.
func SetRuntimeParameters(wf *wfv1.Workflow, values map[string]any) error {
	if len(values) == 0 {
		return nil
	}
	arg, err := rootRuntimeConfig(wf)
	if err != nil {
		return err
	}
	cfg := map[string]any{}
	if v := arg.GetValue(); v != "" {
		if err := json.Unmarshal([]byte(v), &cfg); err != nil {
			return fmt.Errorf("runtime-config %q: %w", v, err)
		}
	}
	params, _ := cfg["parameterValues"].(map[string]any)
	if params == nil {
		params = map[string]any{}
	}
	for k, v := range values {
		params[k] = v
	}
	cfg["parameterValues"] = params
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	arg.Value = wfv1.AnyStringPtr(string(b))
	return nil
}

// SetRunDisplayName gives the run a display name as KFP's API server does
// for a named run: the compiled driver templates pass --run_display_name
// empty, the run's name fills it ({{$.pipeline_job_name}} resolves to it).
func SetRunDisplayName(wf *wfv1.Workflow, name string) {
	for i := range wf.Spec.Templates {
		c := wf.Spec.Templates[i].Container
		if c == nil {
			continue
		}
		for j := 0; j+1 < len(c.Args); j++ {
			if c.Args[j] == "--run_display_name" && c.Args[j+1] == "" {
				c.Args[j+1] = name
			}
		}
	}
}

// rootRuntimeConfig finds the runtime-config argument of the ROOT_DAG
// driver task in the entrypoint.
func rootRuntimeConfig(wf *wfv1.Workflow) (*wfv1.Parameter, error) {
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		if t.Name != wf.Spec.Entrypoint || t.DAG == nil {
			continue
		}
		for j := range t.DAG.Tasks {
			for k := range t.DAG.Tasks[j].Arguments.Parameters {
				if p := &t.DAG.Tasks[j].Arguments.Parameters[k]; p.Name == "runtime-config" {
					return p, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no runtime-config argument in entrypoint %q", wf.Spec.Entrypoint)
}

// Submit creates wf in ns and returns it as created (with its name).
func (s *Stack) Submit(ctx context.Context, ns string, wf *wfv1.Workflow) (*wfv1.Workflow, error) {
	wf = wf.DeepCopy()
	wf.Namespace = ns
	// KFP's API server runs every workflow as the namespace's workflow
	// account (default-editor in a profile namespace).
	wf.Spec.ServiceAccountName = WorkflowSA(ns)
	created, err := s.Workflows.ArgoprojV1alpha1().Workflows(ns).Create(ctx, wf, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("submit %s in %s: %w", wf.GenerateName, ns, err)
	}
	return created, nil
}

// Wait waits until the workflow has completed and returns it.
func (s *Stack) Wait(ctx context.Context, ns, name string) (*wfv1.Workflow, error) {
	return s.watchWorkflow(ctx, ns, name, "workflow "+ns+"/"+name+" to complete", func(wf *wfv1.Workflow) (bool, error) {
		return wf.Status.Phase.Completed(), nil
	})
}

// ArgoCLI runs the real argo CLI (of the cluster's Argo release) against the
// cluster (kube mode: no Argo server) and returns its combined output.
func (s *Stack) ArgoCLI(ctx context.Context, args ...string) (string, error) {
	bin, err := testenv.ToolPath(s.Cluster.ToolsDir, s.Cluster.Argo.CLI)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "--kubeconfig", s.Cluster.KubeconfigPath)...)
	cmd.Env = withoutArgoServer(os.Environ())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("argo %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// withoutArgoServer drops settings that would point the CLI at an Argo
// server instead of the kubeconfig.
func withoutArgoServer(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ARGO_") {
			out = append(out, kv)
		}
	}
	return out
}

// AgentPodName is the agent pod Argo creates for workflow wf.
func AgentPodName(wf string) string { return wf + "-1340600742-agent" }

// Compiled reads a KFP-compiled workflow as KFP's API server creates it:
// driver steps as container templates, nothing converted.
func Compiled(file string) (*wfv1.Workflow, error) {
	path, err := corpusPath(file)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var wf wfv1.Workflow
	if err := yaml.UnmarshalStrict(b, &wf); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	return &wf, nil
}

// Run prepares namespace ns, sets the pipeline parameters, creates the
// compiled workflow exactly as KFP's API server creates it (the admission
// webhook converts it: the KFP namespace and every enabled profile
// namespace are selected) and waits until it completes.
func (s *Stack) Run(ctx context.Context, ns, file string, params map[string]any) (*wfv1.Workflow, error) {
	if err := s.PrepareNamespace(ctx, ns); err != nil {
		return nil, err
	}
	wf, err := Compiled(file)
	if err != nil {
		return nil, err
	}
	SetRunDisplayName(wf, RunDisplayName(file))
	return s.runWorkflow(ctx, ns, wf, params)
}

// RunDisplayName is the display name Run gives a run of file (as a user
// names a run in KFP's UI).
func RunDisplayName(file string) string {
	return "e2e run of " + strings.TrimSuffix(filepath.Base(file), ".yaml")
}

// RunConverted is Run for installs without the webhook: ns opts out of it
// and the workflow goes through the `convert` command first, as the README
// describes for them.
func (s *Stack) RunConverted(ctx context.Context, ns, file string, params map[string]any) (*wfv1.Workflow, error) {
	if err := s.PrepareOptedOutNamespace(ctx, ns); err != nil {
		return nil, err
	}
	wf, err := s.Convert(ctx, file)
	if err != nil {
		return nil, err
	}
	return s.runWorkflow(ctx, ns, wf, params)
}

// RunWithDriverPods runs the stock workflow with a driver pod per step, as
// an install that keeps driver pods would with V2_DRIVER_IMAGE set to our
// image: the driver containers run `driver` (the one-shot mode, package
// drive) from the sidecar image. ns opts out of the webhook.
func (s *Stack) RunWithDriverPods(ctx context.Context, ns, file string, params map[string]any) (*wfv1.Workflow, error) {
	if err := s.PrepareOptedOutNamespace(ctx, ns); err != nil {
		return nil, err
	}
	wf, err := Compiled(file)
	if err != nil {
		return nil, err
	}
	if err := WithDriverPods(wf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s.runWorkflow(ctx, ns, wf, params)
}

// WithDriverPods points the stock workflow's driver containers at our image
// (V2_DRIVER_IMAGE), which runs them as `driver`.
func WithDriverPods(wf *wfv1.Workflow) error {
	n := 0
	for i := range wf.Spec.Templates {
		if c := wf.Spec.Templates[i].Container; c != nil && len(c.Command) == 1 && c.Command[0] == DriverCommand {
			c.Image = SidecarImage
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("no driver template (command %q)", DriverCommand)
	}
	return nil
}

// WithoutCaching sets --cache_disabled on every driver template, as KFP's
// API server does for a run submitted with caching off: repeated runs
// then do the same work.
func WithoutCaching(wf *wfv1.Workflow) error {
	n := 0
	for i := range wf.Spec.Templates {
		c := wf.Spec.Templates[i].Container
		if c == nil || len(c.Command) != 1 || c.Command[0] != DriverCommand {
			continue
		}
		for j, arg := range c.Args {
			if arg == "--cache_disabled=false" || arg == "--cache_disabled" {
				c.Args[j] = "--cache_disabled=true"
				n++
			}
		}
	}
	if n == 0 {
		return errors.New("no driver template with --cache_disabled")
	}
	return nil
}

// DriverCommand is the command of KFP's driver containers.
const DriverCommand = "driver"

func (s *Stack) runWorkflow(ctx context.Context, ns string, wf *wfv1.Workflow, params map[string]any) (*wfv1.Workflow, error) {
	if err := SetRuntimeParameters(wf, params); err != nil {
		return nil, err
	}
	created, err := s.Submit(ctx, ns, wf)
	if err != nil {
		return nil, err
	}
	return s.Wait(ctx, ns, created.Name)
}

// ParseParam reads a command-line parameter value: JSON when it parses
// (numbers, booleans, lists, objects, quoted strings), else the text.
func ParseParam(v string) any {
	var x any
	if err := json.Unmarshal([]byte(v), &x); err == nil {
		return x
	}
	return v
}

// CorpusFiles lists the corpus workflows.
func CorpusFiles() ([]string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	matches, err := filepath.Glob(filepath.Join(root, CorpusDir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	for i, m := range matches {
		matches[i] = filepath.Base(m)
	}
	return matches, nil
}

// NamespaceFor makes a namespace name (a DNS label) from a case or file
// name.
func NamespaceFor(name string) string {
	name = strings.TrimSuffix(strings.ToLower(name), ".yaml")
	b := []byte(name)
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	ns := strings.Trim(string(b), "-")
	if len(ns) > 63 {
		ns = strings.TrimRight(ns[:63], "-")
	}
	return ns
}

// WaitNode waits until the node shown as display (e.g. "echo-driver") in
// workflow name has phase.
func (s *Stack) WaitNode(ctx context.Context, ns, name, display string, phase wfv1.NodePhase) error {
	what := "node " + display + " of " + ns + "/" + name + " to be " + string(phase)
	_, err := s.watchWorkflow(ctx, ns, name, what, func(wf *wfv1.Workflow) (bool, error) {
		for _, n := range wf.Status.Nodes {
			if n.DisplayName == display && n.Phase == phase {
				return true, nil
			}
		}
		if wf.Status.Phase.Completed() {
			return false, permanent{fmt.Errorf("workflow completed (%s) first", wf.Status.Phase)}
		}
		return false, nil
	})
	return err
}
