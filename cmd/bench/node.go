package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// metrics of one benchmark line: unit -> value.
type metrics map[string]float64

// parseBenchOutput reads `go test -bench` result lines into metrics by
// benchmark name (without the -GOMAXPROCS suffix).
func parseBenchOutput(text string) map[string]metrics {
	out := map[string]metrics{}
	suffix := regexp.MustCompile(`-\d+$`)
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil { // the iteration count
			continue
		}
		m := metrics{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			m[f[i+1]] = v
		}
		out[suffix.ReplaceAllString(f[0], "")] = m
	}
	return out
}

// nodeRows adds the real-node figures: per Argo setting and pipeline, the
// wall time and the driver steps' time with the plugin against driver pods,
// and a CONTAINER step in and out of process.
func (t *table) nodeRows(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("-node: %w", err)
	}
	res := parseBenchOutput(string(b))
	found := false
	for _, set := range []string{"argo-defaults", "shipped", "requeue-1s"} {
		for _, p := range []string{"add_numbers", "parallelfor"} {
			name := "BenchmarkPipelineWallTime/" + set + "/" + p + "/"
			plugin, pods := res[name+"plugin"], res[name+"driver-pods"]
			if plugin == nil || pods == nil {
				continue
			}
			found = true
			r := plugin["s/run"] / pods["s/run"]
			target, met := "", (*bool)(nil)
			if set == "shipped" {
				target, met = "plugin ≤ 0.5x driver pods", check(r <= 0.5)
			} else if set == "argo-defaults" {
				target, met = "plugin not slower", check(r <= 1)
			}
			t.add(fmt.Sprintf("Real node, %s wall time, Argo %s", p, set), target,
				fmt.Sprintf("plugin %.1f s vs driver pods %.1f s: %.2fx", plugin["s/run"], pods["s/run"], r), met)
			t.add(fmt.Sprintf("Real node, %s driver steps as Argo timed them, Argo %s", p, set), "",
				fmt.Sprintf("%.0f steps: plugin %.2f s/step (%.1f s in all) vs driver pods %.2f s/step (%.1f s in all): %.1fx",
					plugin["driver-steps/run"], plugin["s/driver-step"], plugin["s/driver-step"]*plugin["driver-steps/run"],
					pods["s/driver-step"], pods["s/driver-step"]*pods["driver-steps/run"], pods["s/driver-step"]/plugin["s/driver-step"]), nil)
			if set == "shipped" && t.containerCall > 0 {
				t.stepCost(p, pods)
			}
		}
	}
	in, out := res["BenchmarkContainerStepInProcess"], res["BenchmarkContainerStepAsProcess"]
	if in != nil && out != nil {
		found = true
		t.add("A CONTAINER step in the sidecar vs as its own drive process (no pod)", "",
			fmt.Sprintf("%.2f ms vs %.1f ms: %.0fx", in["ms/container-step"], out["ms/container-step"], out["ms/container-step"]/in["ms/container-step"]), nil)
	}
	if !found {
		return fmt.Errorf("-node %s: no BenchmarkPipelineWallTime or BenchmarkContainerStep results in it", file)
	}
	return nil
}

// stepCost compares a driver pod step, as Argo timed it, with the plugin
// call's own time (the CONTAINER call above): what a step costs apart from
// Argo's requeue and patch periods, per step and for the whole run.
func (t *table) stepCost(pipeline string, pods metrics) {
	call := t.containerCall.Seconds()
	steps := pods["driver-steps/run"]
	r := pods["s/driver-step"] / call
	t.add(fmt.Sprintf("Real node, %s: a driver pod step vs the plugin call's own time", pipeline), "≥ 100x per step",
		fmt.Sprintf("%.2f s vs %.2f ms: %.0fx; the run's %.0f steps %.1f s vs %.0f ms", pods["s/driver-step"], call*1000, r,
			steps, pods["s/driver-step"]*steps, call*steps*1000), check(r >= 100))
}
