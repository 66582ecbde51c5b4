package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/executor"
)

// container runs one container task: the user command when it can, then
// publishes what the harness confirms.
func container(ctx context.Context, c *clients, flags map[string]string, user []string, stdout, stderr io.Writer) (int, error) {
	launch, err := parseLaunch(flags)
	if err != nil {
		return 1, err
	}
	q := Query{Namespace: c.ns, ExecutionID: launch.ExecutionID}
	return runTask(ctx, launch, q, user, stdout, stderr, func(ans *Answer, params map[string]*structpb.Value) error {
		l := &drivertest.Launcher{MLMD: c.mlmd, Namespace: c.ns}
		if ans.Cache {
			l.Cache = c.cache
		}
		return l.Complete(ctx, launch, drivertest.Outcome{Parameters: params, Failed: ans.Failed, ListSize: ans.ListSize})
	})
}

// runTask runs the user command of launch when it can, asks the harness
// (q names the task) what to publish, and publishes it with publish.
func runTask(ctx context.Context, launch *drivertest.Launch, q Query, user []string, stdout, stderr io.Writer,
	publish func(*Answer, map[string]*structpb.Value) error) (int, error) {
	defer releaseModelcars(launch.Input, stderr)
	q.Pod, q.Container = os.Getenv("KFP_POD_NAME"), reportContainer()
	q.Inputs, q.Outputs = map[string]any{}, map[string]string{}
	var err error
	for name, v := range launch.Input.GetInputs().GetParameterValues() {
		q.Inputs[name] = v.AsInterface()
	}
	for name, def := range launch.Component.GetOutputDefinitions().GetParameters() {
		q.Outputs[name] = def.GetParameterType().String()
	}
	if user = resolvePlaceholders(user, launch.Input); runnable(user) {
		if q.ExitCode, q.Produced, err = runUser(ctx, launch, user, stdout, stderr); err != nil {
			return 1, err
		}
		// 127: the shell found no such command (gsutil, ...): the user code
		// cannot run in this image after all.
		q.RanUserCode = q.ExitCode != commandNotFound
	}
	ans, err := ask(ctx, q)
	if err != nil {
		return 1, err
	}
	params := map[string]*structpb.Value{}
	for name, v := range ans.Parameters {
		if params[name], err = structpb.NewValue(v); err != nil {
			return 1, fmt.Errorf("output %s: %w", name, err)
		}
	}
	if err := publish(ans, params); err != nil {
		return 1, err
	}
	if ans.Failed {
		return 1, nil
	}
	return 0, nil
}

// releaseModelcars tells the driver's modelcar sidecars (one per oci://
// input) that the task is over, as KFP's launcher does whatever the
// outcome: a launcher-complete file beside the model link in their shared
// volume, which each sidecar waits for before it exits.
func releaseModelcars(in *pipelinespec.ExecutorInput, stderr io.Writer) {
	for _, list := range in.GetInputs().GetArtifacts() {
		for _, a := range list.GetArtifacts() {
			if !strings.HasPrefix(a.GetUri(), "oci://") {
				continue
			}
			done := filepath.Join(filepath.Dir(executor.LocalPath(a.GetUri())), "launcher-complete")
			if err := os.WriteFile(done, nil, 0o644); err != nil {
				fmt.Fprintln(stderr, "kfp-launcher stand-in: releasing the modelcar:", err)
			}
		}
	}
}

// commandNotFound is a POSIX shell's exit status for a missing command.
const commandNotFound = 127

// runnable reports whether this image can run the user command at all: a
// program it has. (Whether what the program needs is there shows when it
// runs: exit 127.)
func runnable(cmd []string) bool {
	if len(cmd) == 0 {
		return false
	}
	_, err := exec.LookPath(cmd[0])
	return err == nil
}

// runUser runs the user command as the launcher does: input artifacts at
// their local paths, output directories made, then the command; it returns
// the exit status and the output parameters the command wrote.
func runUser(ctx context.Context, launch *drivertest.Launch, user []string, stdout, stderr io.Writer) (int, map[string]any, error) {
	if err := downloadInputs(ctx, launch.Input); err != nil {
		return 0, nil, err
	}
	if err := makeOutputDirs(launch.Input); err != nil {
		return 0, nil, err
	}
	cmd := exec.CommandContext(ctx, user[0], user[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return 0, nil, fmt.Errorf("user command: %w", err)
		}
		code = exit.ExitCode()
	}
	if code != 0 {
		return code, nil, nil // failed (or could not run here): no outputs
	}
	produced, err := readParameters(launch)
	if err != nil {
		return code, nil, err
	}
	custom, err := applyExecutorOutput(launch.Input, produced)
	if err != nil {
		return code, nil, err
	}
	return code, produced, uploadOutputs(ctx, launch.Input, custom)
}

// applyExecutorOutput reads what the user program wrote to the executor
// output file, as KFP's launcher does: its parameter values win over the
// parameter files, and its artifacts (a returned artifact may have another
// URI, and metadata) replace the provisioned ones, so the upload and the
// publication use them. It returns the custom paths artifacts were written
// at (Artifact.set_path), by output name. No file: the program wrote none
// (container components).
func applyExecutorOutput(in *pipelinespec.ExecutorInput, produced map[string]any) (map[string]string, error) {
	path := in.GetOutputs().GetOutputFile()
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &pipelinespec.ExecutorOutput{}
	if err := lenient.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("executor output %s: %w", path, err)
	}
	for name, v := range out.GetParameterValues() {
		produced[name] = v.AsInterface()
	}
	declared := in.GetOutputs().GetArtifacts()
	for name, list := range out.GetArtifacts() {
		if declared[name] == nil || len(list.GetArtifacts()) == 0 {
			continue // not an output of this task: the launcher ignores it too
		}
		declared[name].Artifacts = list.GetArtifacts()
	}
	return customPaths(b), nil
}

// customPaths reads the runtime artifacts' custom_path (newer than the
// pinned pipeline spec, which drops it) from the executor output JSON.
func customPaths(b []byte) map[string]string {
	var raw struct {
		Artifacts map[string]struct {
			Artifacts []struct {
				Snake string `json:"custom_path"` // as the SDK writes it
				Camel string `json:"customPath"`  // protojson's name
			} `json:"artifacts"`
		} `json:"artifacts"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	out := map[string]string{}
	for name, list := range raw.Artifacts {
		for _, a := range list.Artifacts {
			if p := a.Snake + a.Camel; p != "" && filepath.IsAbs(p) {
				out[name] = filepath.Clean(p)
			}
		}
	}
	return out
}

func downloadInputs(ctx context.Context, in *pipelinespec.ExecutorInput) error {
	for name, list := range in.GetInputs().GetArtifacts() {
		for _, a := range list.GetArtifacts() {
			if strings.HasPrefix(a.GetUri(), "oci://") {
				if err := waitForModelcar(ctx, executor.LocalPath(a.GetUri())); err != nil {
					return fmt.Errorf("input artifact %s: %w", name, err)
				}
				continue
			}
			if err := download(ctx, a.GetUri(), executor.LocalPath(a.GetUri())); err != nil {
				return fmt.Errorf("input artifact %s: %w", name, err)
			}
		}
	}
	return nil
}

// waitForModelcar waits, as KFP's launcher does, until the driver's modelcar
// sidecar (started beside the main container) has linked its model files
// at path.
func waitForModelcar(ctx context.Context, path string) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := os.Stat(path)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("model files at %s: %w (the main and modelcar containers need the same UID)", path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the modelcar to link %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

func makeOutputDirs(in *pipelinespec.ExecutorInput) error {
	var dirs []string
	for _, p := range in.GetOutputs().GetParameters() {
		dirs = append(dirs, filepath.Dir(p.GetOutputFile()))
	}
	for _, list := range in.GetOutputs().GetArtifacts() {
		for _, a := range list.GetArtifacts() {
			dirs = append(dirs, filepath.Dir(executor.LocalPath(a.GetUri())))
		}
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// readParameters reads the output parameter files the command wrote, typed
// as declared (a file that is not there is an output not produced).
func readParameters(launch *drivertest.Launch) (map[string]any, error) {
	out := map[string]any{}
	defs := launch.Component.GetOutputDefinitions().GetParameters()
	for name, p := range launch.Input.GetOutputs().GetParameters() {
		b, err := os.ReadFile(p.GetOutputFile())
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := typed(string(b), defs[name].GetParameterType())
		if err != nil {
			return nil, fmt.Errorf("output parameter %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func typed(s string, t pipelinespec.ParameterType_ParameterTypeEnum) (any, error) {
	if t == pipelinespec.ParameterType_STRING || t == pipelinespec.ParameterType_PARAMETER_TYPE_ENUM_UNSPECIFIED {
		return s, nil
	}
	// Python's str(bool), what OutputPath(bool) files hold; the launcher
	// accepts it.
	if t == pipelinespec.ParameterType_BOOLEAN {
		switch strings.TrimSpace(s) {
		case "True":
			return true, nil
		case "False":
			return false, nil
		}
	}
	v := &structpb.Value{}
	if err := v.UnmarshalJSON([]byte(strings.TrimSpace(s))); err != nil {
		return nil, fmt.Errorf("%q is not a %s: %w", s, t, err)
	}
	return v.AsInterface(), nil
}

func uploadOutputs(ctx context.Context, in *pipelinespec.ExecutorInput, custom map[string]string) error {
	for name, list := range in.GetOutputs().GetArtifacts() {
		for _, a := range list.GetArtifacts() {
			path := executor.LocalPath(a.GetUri())
			if p, ok := custom[name]; ok {
				path = p
			}
			if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
				continue // not written: nothing to upload (the launcher skips it too)
			}
			if err := upload(ctx, a.GetUri(), path); err != nil {
				return fmt.Errorf("output artifact %s: %w", name, err)
			}
		}
	}
	return nil
}
