package plugintest

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// OutputFlags are the output parameters KFP's compiled driver templates
// read from files, by step type, with the flag naming each file.
var OutputFlags = map[driver.Type]map[string]string{
	driver.RootDAG:   {driver.OutputExecutionID: "execution_id_path", driver.OutputIterationCount: "iteration_count_path", driver.OutputCondition: "condition_path"},
	driver.DAG:       {driver.OutputExecutionID: "execution_id_path", driver.OutputIterationCount: "iteration_count_path", driver.OutputCondition: "condition_path"},
	driver.Container: {driver.OutputPodSpecPatch: "pod_spec_patch_path", driver.OutputCachedDecision: "cached_decision_path", driver.OutputCondition: "condition_path"},
}

// CommandLine renders req as the args KFP's compiler gives a driver
// container, with the output files under dir; it also returns the file of
// each output parameter.
func CommandLine(req *driver.Request, dir string) ([]string, map[string]string, error) {
	args, err := Args(req)
	if err != nil {
		return nil, nil, err
	}
	var argv []string
	for _, name := range slices.Sorted(maps.Keys(args)) {
		if v, ok := args[name].(bool); ok {
			argv = append(argv, fmt.Sprintf("--%s=%t", name, v))
		} else {
			argv = append(argv, "--"+name, fmt.Sprint(args[name]))
		}
	}
	files := map[string]string{}
	for _, param := range slices.Sorted(maps.Keys(OutputFlags[req.Type])) {
		files[param] = filepath.Join(dir, "outputs", param)
		argv = append(argv, "--"+OutputFlags[req.Type][param], files[param])
	}
	return argv, files, nil
}
