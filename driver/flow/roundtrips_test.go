package flow_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// TestRoundTrips counts the driver's MLMD RPCs per kind of call over real
// specs (the figures in driver/README.md) and holds CONTAINER to <= 6.
func TestRoundTrips(t *testing.T) {
	env := drivertest.NewEnv(t)
	calls := driverCalls(t, env)
	byKind := map[string][]int64{}
	files := []string{"two_step_pipeline.yaml", "pipeline_with_loops.yaml", "if_else_with_oneof_parameters.yaml",
		"collected_parameters.yaml", "parameter_cache.yaml", "parameter_cache.yaml", "pipeline_with_task_final_status.yaml"}
	for i, f := range files {
		trace := walk(t, env, f, fmt.Sprintf("rt-%d", i), func(w *drivertest.Walker) { w.Calls = calls })
		for _, s := range trace.Steps {
			byKind[kind(s)] = append(byKind[kind(s)], s.RPCs)
		}
	}
	var lines []string
	for k, counts := range byKind {
		sort.Slice(counts, func(i, j int) bool { return counts[i] < counts[j] })
		lines = append(lines, fmt.Sprintf("%-28s min %d  median %d  max %d  (%d calls)", k, counts[0], counts[len(counts)/2], counts[len(counts)-1], len(counts)))
		// A cache hit or a skip also settles the parent DAGs' states
		// (KFP's driver does not, a bug): up to 2 more per DAG level.
		limit := int64(6)
		if k != "CONTAINER (runs)" && strings.HasPrefix(k, "CONTAINER") {
			limit = 10
		}
		if max := counts[len(counts)-1]; strings.HasPrefix(k, "CONTAINER") && max > limit {
			t.Errorf("%s: up to %d MLMD round trips, want <= %d", k, max, limit)
		}
	}
	sort.Strings(lines)
	t.Log("MLMD round trips per driver call:\n" + strings.Join(lines, "\n"))
}

func kind(s *drivertest.Step) string {
	r := s.Result
	switch {
	case s.Type == driver.RootDAG:
		return "ROOT_DAG"
	case s.Type == driver.DAG && s.Iteration >= 0:
		return "DAG (iteration)"
	case s.Type == driver.DAG && r.IterationCount != nil && *r.IterationCount > 0:
		return "DAG (ParallelFor loop)"
	case s.Type == driver.DAG && r.Condition != nil && !*r.Condition:
		return "DAG (condition false)"
	case s.Type == driver.DAG:
		return "DAG"
	case r.Condition != nil && !*r.Condition:
		return "CONTAINER (condition false)"
	case r.CachedDecision != nil && *r.CachedDecision:
		return "CONTAINER (cache hit)"
	}
	return "CONTAINER (runs)"
}

// TestRoundTripsColdProcess: the first CONTAINER call of a fresh process
// (a restarted agent) also reads the run's contexts and registers the
// types, concurrently with the parent DAG read.
func TestRoundTripsColdProcess(t *testing.T) {
	env, req := benchRun(t)
	fresh := flow.New(flow.Deps{MLMD: mlmd.NewPool(mlmd.Config{}), Endpoints: env.Endpoints})
	client, err := fresh.MLMDClient()
	if err != nil {
		t.Fatal(err)
	}
	first := *req
	first.TaskName = "consume-cold"
	if _, err := fresh.Run(context.Background(), &first); err != nil {
		t.Fatal(err)
	}
	cold := client.Calls()
	r := *req
	r.TaskName = "consume-again"
	if _, err := fresh.Run(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	warm := client.Calls() - cold
	t.Logf("CONTAINER with 3 inputs: %d MLMD RPCs in a fresh process, %d after", cold, warm)
	if warm > 6 || cold > 7 {
		t.Errorf("round trips: cold %d (want <= 7), warm %d (want <= 6)", cold, warm)
	}
	_ = env
}

// TestNativeRoundTrips counts the native line's API calls per kind of
// driver call over the same real specs (including the first reads of a
// run's spec and of each parent task, which a process makes once), and
// holds a CONTAINER that runs to <= 6.
func TestNativeRoundTrips(t *testing.T) {
	env := drivertest.NewNativeEnv(t)
	calls := func() int64 { return int64(env.API.TotalCalls()) }
	byKind := map[string][]int64{}
	files := []string{"two_step_pipeline.yaml", "pipeline_with_loops.yaml", "if_else_with_oneof_parameters.yaml",
		"collected_parameters.yaml", "parameter_cache.yaml", "parameter_cache.yaml", "pipeline_with_task_final_status.yaml"}
	for i, f := range files {
		trace := walk(t, env, f, fmt.Sprintf("rt-%d", i), func(w *drivertest.Walker) { w.Calls = calls })
		for _, s := range trace.Steps {
			byKind[kind(s)] = append(byKind[kind(s)], s.RPCs)
		}
	}
	var lines []string
	for k, counts := range byKind {
		sort.Slice(counts, func(i, j int) bool { return counts[i] < counts[j] })
		lines = append(lines, fmt.Sprintf("%-28s min %d  median %d  max %d  (%d calls)", k, counts[0], counts[len(counts)/2], counts[len(counts)-1], len(counts)))
		if max := counts[len(counts)-1]; k == "CONTAINER (runs)" && max > 6 {
			t.Errorf("%s: up to %d API round trips, want <= 6", k, max)
		}
	}
	sort.Strings(lines)
	t.Log("KFP API round trips per driver call (first call of a run or parent in the process included):\n" + strings.Join(lines, "\n"))
}
