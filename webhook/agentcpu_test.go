package webhook

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

// agentPodWithLimits is an agent pod as Argo creates it, with the given
// CPU limits (JSON resources objects) on its init and main containers.
func agentPodWithLimits(initRes, mainRes string) []byte {
	pod := decodeJSONBytes(agentPodJSON(agentLabels, "",
		`[{"name":"main","resources":`+mainRes+`},{"name":"driver-plugin","resources":{"limits":{"cpu":"500m"}}}]`))
	spec := pod["spec"].(map[string]any)
	spec["initContainers"] = []any{map[string]any{"name": "init", "resources": decodeJSONBytes([]byte(initRes))}}
	return encodeJSONBytes(pod)
}

// cpuLimits returns the CPU limit of each named container after the patch.
func cpuLimits(t *testing.T, pod []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	spec := decodeJSON(t, pod)["spec"].(map[string]any)
	for _, group := range []string{"initContainers", "containers"} {
		cs, _ := spec[group].([]any)
		for _, c := range cs {
			c := c.(map[string]any)
			res, _ := c["resources"].(map[string]any)
			limits, _ := res["limits"].(map[string]any)
			out[c["name"].(string)] = limits["cpu"]
		}
	}
	return out
}

func TestAgentCPULimitIsRaised(t *testing.T) {
	const argo = `{"limits":{"cpu":"100m","memory":"256M"},"requests":{"cpu":"10m"}}`
	for name, tc := range map[string]struct {
		init, main string
		limit      string
		want       map[string]any
	}{
		"Argo's 100m is raised on init and main": {argo, argo, "1",
			map[string]any{"init": "1", "main": "1", "driver-plugin": "500m"}},
		"a higher limit is kept": {argo, `{"limits":{"cpu":"2"}}`, "1",
			map[string]any{"init": "1", "main": "2", "driver-plugin": "500m"}},
		"no limit is unlimited, kept": {`{}`, `{"requests":{"cpu":"100m"}}`, "1",
			map[string]any{"init": nil, "main": nil, "driver-plugin": "500m"}},
		"an unreadable limit is kept": {argo, `{"limits":{"cpu":"lots"}}`, "1",
			map[string]any{"init": "1", "main": "lots", "driver-plugin": "500m"}},
		"limit 0 leaves the pod": {argo, argo, "0",
			map[string]any{"init": "100m", "main": "100m", "driver-plugin": "500m"}},
	} {
		pod := agentPodWithLimits(tc.init, tc.main)
		srv := NewServer(Workflows{}, AgentPods{Metadata: staticSource{md: emptyMetadata()}, CPULimit: resource.MustParse(tc.limit)}, NewMetrics())
		resp := post(t, srv, PodsPath, podReview(t, pod))
		got := cpuLimits(t, applyPatch(t, pod, resp))
		for c, want := range tc.want {
			if got[c] != want {
				t.Errorf("%s: %s CPU limit %v, want %v", name, c, got[c], want)
			}
		}
	}
}

func TestAgentCPULimitOnlyOnPluginAgents(t *testing.T) {
	pod := decodeJSONBytes(agentPodJSON(`{"workflows.argoproj.io/workflow":"wf"}`, "",
		`[{"name":"main","resources":{"limits":{"cpu":"100m"}}},{"name":"driver-plugin"}]`))
	srv := NewServer(Workflows{}, AgentPods{Metadata: staticSource{md: emptyMetadata()}, CPULimit: resource.MustParse("1")}, NewMetrics())
	b := encodeJSONBytes(pod)
	resp := post(t, srv, PodsPath, podReview(t, b))
	if got := cpuLimits(t, applyPatch(t, b, resp))["main"]; got != "100m" {
		t.Errorf("a pod that is not an agent pod got CPU limit %v", got)
	}
}

func decodeJSONBytes(b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func encodeJSONBytes(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
