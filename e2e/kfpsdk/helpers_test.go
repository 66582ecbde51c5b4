package kfpsdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/ociimage"
)

// corpusDir holds the KFP-compiled workflows (e2e.CorpusDir, which this
// package does not import: e2e imports it).
const corpusDir = "convert/testdata/compiled-workflows"

// component is a Python-function component of a corpus workflow: its spec
// and the container its implementation runs.
type component struct {
	File     string // corpus file name
	Function string
	Spec     componentSpec
	Command  []string
	Args     []string
}

type componentSpec struct {
	InputDefinitions struct {
		Parameters map[string]any `json:"parameters"`
		Artifacts  map[string]any `json:"artifacts"`
	} `json:"inputDefinitions"`
	OutputDefinitions struct {
		Parameters map[string]any            `json:"parameters"`
		Artifacts  map[string]artifactOutDef `json:"artifacts"`
	} `json:"outputDefinitions"`
}

type artifactOutDef struct {
	ArtifactType struct {
		SchemaTitle string `json:"schemaTitle"`
	} `json:"artifactType"`
}

// Source is the component's Python source: the command's last element in
// the lightweight form (sh -c <pip> sh -ec <program> <source>).
func (c component) Source() string {
	if len(c.Command) < 4 || c.Command[0] != "sh" {
		return ""
	}
	return c.Command[len(c.Command)-1]
}

// Prelude is the shell script that pip-installs the packages.
func (c component) Prelude() string {
	if len(c.Command) < 4 || c.Command[0] != "sh" {
		return ""
	}
	return c.Command[2]
}

// corpusComponents reads every Python-function component of the corpus:
// the compiler puts each component spec and implementation in the
// workflow's arguments as components-<hash> and implementations-<hash>.
func corpusComponents(t *testing.T) []component {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, corpusDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	var out []component
	for _, p := range paths {
		out = append(out, workflowComponents(t, p)...)
	}
	return out
}

func workflowComponents(t *testing.T, file string) []component {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Spec struct {
			Arguments struct {
				Parameters []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"parameters"`
			} `json:"arguments"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	specs := map[string]string{}
	for _, p := range wf.Spec.Arguments.Parameters {
		if hash, ok := strings.CutPrefix(p.Name, "components-"); ok {
			specs[hash] = p.Value
		}
	}
	var out []component
	for _, p := range wf.Spec.Arguments.Parameters {
		hash, ok := strings.CutPrefix(p.Name, "implementations-")
		if !ok {
			continue
		}
		var impl struct {
			Command []string `json:"command"`
			Args    []string `json:"args"`
		}
		if err := json.Unmarshal([]byte(p.Value), &impl); err != nil {
			t.Fatalf("%s: %s: %v", file, p.Name, err)
		}
		if !slices.ContainsFunc(impl.Command, func(s string) bool { return strings.Contains(s, "kfp.dsl.executor_main") }) {
			continue // a container component
		}
		c := component{File: filepath.Base(file), Command: impl.Command, Args: impl.Args}
		if i := slices.Index(impl.Args, "--function_to_execute"); i >= 0 && i+1 < len(impl.Args) {
			c.Function = impl.Args[i+1]
		}
		if err := json.Unmarshal([]byte(specs[hash]), &c.Spec); err != nil {
			t.Fatalf("%s: components-%s: %v", file, hash, err)
		}
		out = append(out, c)
	}
	return out
}

// corpusComponent is the component of a corpus file that runs function.
func corpusComponent(t *testing.T, file, function string) component {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range workflowComponents(t, filepath.Join(root, corpusDir, file)) {
		if c.Function == function {
			return c
		}
	}
	t.Fatalf("%s has no Python component %s", file, function)
	return component{}
}

// sdk is the stand-in installed in a temporary root as Files puts it in
// the image, run by the host's Debian python3 (the interpreter the image
// copies) with a clean environment.
type sdk struct {
	root   string // image files
	mounts string // MountRootEnv: /minio, /gcs... live here
	work   string
	env    []string
}

func newSDK(t *testing.T) *sdk {
	t.Helper()
	if _, err := os.Stat(ociimage.PythonLink); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if testenv.ToolsRequired() {
			t.Fatalf("%s is missing: apt-get install python3", ociimage.PythonLink)
		}
		t.Skipf("%s is missing (apt-get install python3)", ociimage.PythonLink)
	}
	dir := t.TempDir()
	s := &sdk{root: filepath.Join(dir, "image"), mounts: filepath.Join(dir, "mounts"), work: filepath.Join(dir, "work")}
	for _, f := range Files() {
		p := filepath.Join(s.root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(s.root, "usr/local/bin")
	if err := os.Symlink(ociimage.PythonLink, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{s.mounts, s.work, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = []string{
		"PATH=" + bin + ":/usr/bin:/bin",
		"PYTHONPATH=" + filepath.Join(s.root, SitePackages),
		"PYTHONDONTWRITEBYTECODE=1",
		MountRootEnv + "=" + s.mounts,
		"HOME=" + s.work,
		"TMPDIR=" + tmp,
		"LANG=C.UTF-8",
	}
	return s
}

// result is how one command ended.
type result struct {
	Code           int
	Stdout, Stderr string
	Output         *executorOutput // nil when the file was not written
}

type executorOutput struct {
	ParameterValues map[string]any `json:"parameterValues"`
	Artifacts       map[string]struct {
		Artifacts []runtimeArtifact `json:"artifacts"`
	} `json:"artifacts"`
}

type runtimeArtifact struct {
	Name     string         `json:"name"`
	URI      string         `json:"uri"`
	Metadata map[string]any `json:"metadata"`
}

// artifact is the one artifact of an output, failing when there is none.
func (o *executorOutput) artifact(t *testing.T, name string) runtimeArtifact {
	t.Helper()
	if o == nil || len(o.Artifacts[name].Artifacts) != 1 {
		t.Fatalf("executor output has no artifact %s: %+v", name, o)
	}
	return o.Artifacts[name].Artifacts[0]
}

// task is one run of a component: its executor input as the driver builds
// it (driver/executor.Outputs): output artifacts under minio://<bucket>/
// <task>/<name>, the output file in the mirror of that root, output
// parameters in files of their own.
type task struct {
	name   string
	params map[string]any
	inputs map[string][]runtimeArtifact // input artifacts, with types
	types  map[string]string            // input artifact schema titles
}

const bucketRoot = "minio://mlpipeline/v2/artifacts/run"

func (s *sdk) executorInput(c component, tk task) map[string]any {
	root := bucketRoot + "/" + tk.name
	outArtifacts := map[string]any{}
	for name, def := range c.Spec.OutputDefinitions.Artifacts {
		outArtifacts[name] = map[string]any{"artifacts": []any{map[string]any{
			"name": name, "uri": root + "/" + name, "metadata": map[string]any{},
			"type": map[string]any{"schemaTitle": def.ArtifactType.SchemaTitle},
		}}}
	}
	outParams := map[string]any{}
	for name := range c.Spec.OutputDefinitions.Parameters {
		outParams[name] = map[string]any{"outputFile": filepath.Join(s.work, "outputs", tk.name, name)}
	}
	inArtifacts := map[string]any{}
	for name, list := range tk.inputs {
		var arts []any
		for _, a := range list {
			arts = append(arts, map[string]any{"name": a.Name, "uri": a.URI, "metadata": a.Metadata,
				"type": map[string]any{"schemaTitle": tk.types[name]}})
		}
		inArtifacts[name] = map[string]any{"artifacts": arts}
	}
	return map[string]any{
		"inputs": map[string]any{"parameterValues": tk.params, "artifacts": inArtifacts},
		"outputs": map[string]any{
			"artifacts": outArtifacts, "parameters": outParams,
			"outputFile": s.local(root + "/output_metadata.json"),
		},
	}
}

// local is where a minio:// URI's file is for the executor under test.
func (s *sdk) local(uri string) string {
	rest, ok := strings.CutPrefix(uri, "minio://")
	if !ok {
		panic("test URIs are minio:// ones: " + uri)
	}
	return filepath.Join(s.mounts, "minio", filepath.FromSlash(rest))
}

func (s *sdk) writeArtifact(t *testing.T, uri, content string) {
	t.Helper()
	p := s.local(uri)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *sdk) readArtifact(t *testing.T, uri string) string {
	t.Helper()
	b, err := os.ReadFile(s.local(uri))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// outputParameter is the file content the component wrote for an output
// parameter (OutputPath), "" when it wrote none.
func (s *sdk) outputParameter(t *testing.T, tk task, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.work, "outputs", tk.name, name))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run runs the component's real command line with the executor input in
// place of {{$}}, as the launcher does after resolving placeholders.
func (s *sdk) run(t *testing.T, c component, tk task) result {
	t.Helper()
	in, err := json.Marshal(s.executorInput(c, tk))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, a := range c.Args {
		a = strings.ReplaceAll(a, "{{$}}", string(in))
		if strings.Contains(a, "{{$") {
			t.Fatalf("%s %s: unresolved placeholder in %q", c.File, c.Function, a)
		}
		args = append(args, a)
	}
	res := s.exec(t, append(slices.Clone(c.Command), args...))
	b, err := os.ReadFile(s.local(bucketRoot + "/" + tk.name + "/output_metadata.json"))
	switch {
	case err == nil:
		res.Output = &executorOutput{}
		if err := json.Unmarshal(b, res.Output); err != nil {
			t.Fatalf("executor output %s: %v", b, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		t.Fatal(err)
	}
	return res
}

func (s *sdk) exec(t *testing.T, argv []string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), s.lookPath(t, argv[0]), argv[1:]...)
	cmd.Env, cmd.Dir = s.env, s.work
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := result{}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s: %v", argv[0], err)
		}
		res.Code = exit.ExitCode()
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	return res
}

// lookPath finds a command on the PATH of s.env (exec.Command would search
// the test's own PATH, where python3 and pip may be other ones).
func (s *sdk) lookPath(t *testing.T, name string) string {
	t.Helper()
	if strings.Contains(name, "/") {
		return name
	}
	for _, e := range s.env {
		dirs, ok := strings.CutPrefix(e, "PATH=")
		if !ok {
			continue
		}
		for _, d := range filepath.SplitList(dirs) {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	t.Fatalf("%s is not on the PATH of the stand-in", name)
	return ""
}

// mustSucceed fails the test with the command's output unless it exited 0.
func mustSucceed(t *testing.T, what string, r result) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("%s exited %d\nstdout:\n%s\nstderr:\n%s", what, r.Code, r.Stdout, r.Stderr)
	}
	if r.Output == nil {
		t.Fatalf("%s wrote no executor output\nstdout:\n%s\nstderr:\n%s", what, r.Stdout, r.Stderr)
	}
}
