package drive_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/drive"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// written reads back the output files that exist.
func written(t testing.TB, files map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for param, path := range files {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[param] = string(b)
	}
	return out
}

// oneShot is a driver.Driver that runs every step as `drive` would, then
// makes the same call to the in-process service `serve` uses: steps are
// idempotent, so the service must answer what drive wrote.
type oneShot struct {
	t     *testing.T
	env   *drivertest.Env
	steps atomic.Int32
}

func (d *oneShot) Run(ctx context.Context, req *driver.Request) (*driver.Result, error) {
	dir := filepath.Join(d.t.TempDir(), fmt.Sprint(d.steps.Add(1)))
	argv, files, err := plugintest.CommandLine(req, dir)
	if err != nil {
		return nil, err
	}
	if _, err := drive.Run(ctx, argv, drive.Env{Namespace: req.Namespace, Kube: d.env.Kube, MLMD: d.env.Pool, Tasks: d.env.Tasks}); err != nil {
		return nil, err
	}
	got := written(d.t, files)
	served, err := d.env.Service.Run(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("the same step in-process after drive: %w", err)
	}
	want := map[string]string{}
	for name, v := range served.Outputs(req.Type) {
		if _, ok := plugintest.OutputFlags[req.Type][name]; ok {
			want[name] = v
		}
	}
	if !maps.Equal(got, want) {
		return nil, fmt.Errorf("%s %s: drive wrote %v, serve answers %v", req.Type, req.TaskName, got, want)
	}
	return served, nil
}

// TestDriveDecidesAsServe walks every pipeline spec of the corpus with
// each driver step run by drive from its command line, and checks the
// files it writes against what serve's driver answers for the same call.
func TestDriveDecidesAsServe(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "driver", "testdata", "pipelines", "*.yaml"))
	if len(files) < 20 {
		t.Fatalf("only %d pipeline specs found", len(files))
	}
	env := drivertest.NewEnv(t)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := drivertest.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			d := &oneShot{t: t, env: env}
			w := env.Walker(p, "drive-"+name)
			w.Driver = d
			w.Produce = drivertest.Produce
			if _, err := w.Run(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if d.steps.Load() == 0 {
				t.Fatal("no step ran")
			}
		})
	}
}

// rootArgs is a valid ROOT_DAG command line; tests edit it.
func rootArgs(dir string) []string {
	return []string{"--type", "ROOT_DAG", "--pipeline_name", "p", "--run_id", "r1", "--run_name", "wf",
		"--component", `{"dag":{"tasks":{}}}`, "--runtime_config", "{}", "--iteration_index", "-1",
		"--mlmd_server_address", "127.0.0.1", "--mlmd_server_port", "1",
		"--execution_id_path", filepath.Join(dir, "execution-id"),
		"--iteration_count_path", filepath.Join(dir, "iteration-count"),
		"--condition_path", filepath.Join(dir, "condition"),
		"--cache_disabled=false", "--metadata_tls_enabled=false"}
}

func without(argv []string, flag string) []string {
	i := slices.Index(argv, flag)
	return append(slices.Clone(argv[:i]), argv[i+2:]...)
}

func replaced(argv []string, flag, value string) []string {
	out := slices.Clone(argv)
	out[slices.Index(out, flag)+1] = value
	return out
}

// TestParseErrorsNameTheFlag: a bad command line fails before anything is
// dialled, naming the flag.
func TestParseErrorsNameTheFlag(t *testing.T) {
	ok := rootArgs("/out")
	if _, err := drive.Parse(ok); err != nil {
		t.Fatalf("valid command line: %v", err)
	}
	for _, tc := range []struct {
		name string
		argv []string
		want string
	}{
		{"unknown flag", append(slices.Clone(ok), "--frobnicate", "1"), `unknown driver flag "--frobnicate"`},
		{"missing output file", without(ok, "--execution_id_path"), `flag "--execution_id_path" is required for ROOT_DAG`},
		{"empty output file", replaced(ok, "--condition_path", ""), `flag "--condition_path": empty path`},
		{"bad type", replaced(ok, "--type", "POD"), `flag "--type": unknown driver type "POD"`},
		{"file reference", replaced(ok, "--component", "@/etc/passwd"), `flag "--component": file references`},
		{"malformed component", replaced(ok, "--component", "{"), `flag "--component": malformed JSON`},
		{"bad port", replaced(ok, "--mlmd_server_port", "http"), `endpoint flags: metadata (MLMD) port "http"`},
		{"bad host", replaced(ok, "--mlmd_server_address", "a/b"), `endpoint flags: metadata (MLMD) address "a/b"`},
		{"bad bool", append(slices.Clone(ok), "--ml_pipeline_tls_enabled=maybe"), `driver flag "--ml_pipeline_tls_enabled": "maybe" is not a boolean`},
		{"stray argument", append(slices.Clone(ok), "extra"), `unexpected driver argument "extra"`},
	} {
		if _, err := drive.Parse(tc.argv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestTransientFailureGivesUpWritingNothing: MLMD that never answers is
// retried for the budget, then the step fails with the cause and no file.
func TestTransientFailureGivesUpWritingNothing(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	_, err := drive.Run(context.Background(), rootArgs(dir), drive.Env{Namespace: "ns", TransientBudget: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "still failing after 2s") {
		t.Fatalf("error %v, want the budget named", err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("gave up after %s: no retry happened", elapsed)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written by a failed step: %v", entries)
	}
}

// TestCACertPathOnlyWithTLS: ca_cert_path is the pod's own file and is read
// only when a service is reached over TLS; a file that is not PEM fails.
func TestCACertPathOnlyWithTLS(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append(rootArgs(dir), "--ca_cert_path", notPEM)
	tls := slices.Clone(argv)
	tls[slices.Index(tls, "--metadata_tls_enabled=false")] = "--metadata_tls_enabled=true"
	_, err := drive.Run(context.Background(), tls, drive.Env{Namespace: "ns", TransientBudget: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "--ca_cert_path") || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("TLS with a non-PEM CA: %v", err)
	}
	_, err = drive.Run(context.Background(), argv, drive.Env{Namespace: "ns", TransientBudget: time.Millisecond})
	if err == nil || strings.Contains(err.Error(), "ca_cert_path") {
		t.Errorf("plain text: the CA file must not be read, got %v", err)
	}
}

// TestParseNativeLine: KFP master's command line (no specs; the kubelet has
// expanded --namespace $(NAMESPACE)) parses as the native line, its DAG
// steps write the task ID file; a namespace other than the pod's fails.
func TestParseNativeLine(t *testing.T) {
	dag := []string{"--type", "DAG", "--pipeline_name", "p", "--run_id", "r", "--task_name", "loop",
		"--parent_task_id", "task-1", "--namespace", "team-a", "--iteration_index", "-1",
		"--parent_task_id_path", "/out/task-id", "--iteration_count_path", "/out/n", "--condition_path", "/out/c"}
	step, err := drive.Parse(dag)
	if err != nil {
		t.Fatal(err)
	}
	if step.Request.Line != driver.LineNative || step.Files["parent-dag-task-id-path"] != "/out/task-id" {
		t.Errorf("line %q, files %v", step.Request.Line, step.Files)
	}
	if _, err := drive.Parse(without(dag, "--parent_task_id_path")); err == nil ||
		!strings.Contains(err.Error(), `flag "--parent_task_id_path" is required for DAG`) {
		t.Errorf("missing task ID file: %v", err)
	}
	if _, err := drive.Parse(append(slices.Clone(dag), "--dag_execution_id", "3")); err == nil ||
		!strings.Contains(err.Error(), `flag "--dag_execution_id"`) {
		t.Errorf("mixed lines: %v", err)
	}
	if _, err := drive.Run(context.Background(), replaced(dag, "--namespace", "team-b"), drive.Env{Namespace: "team-a"}); err == nil ||
		!strings.Contains(err.Error(), `flag "--namespace": is "team-b" but the workflow runs in "team-a"`) {
		t.Errorf("other namespace: %v", err)
	}
}
