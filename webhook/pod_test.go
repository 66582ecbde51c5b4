package webhook

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

func agentPodJSON(labels, annotations, containers string) []byte {
	meta := `"name":"wf-1340600742-agent","namespace":"team-a","labels":` + labels
	if annotations != "" {
		meta += `,"annotations":` + annotations
	}
	return []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{` + meta + `},"spec":{"containers":` + containers + `}}`)
}

const (
	agentLabels   = `{"workflows.argoproj.io/component":"agent","workflows.argoproj.io/workflow":"wf"}`
	agentContains = `[{"name":"main"},{"name":"driver-plugin"}]`
)

var adminMetadata = pluginconfig.PodMetadata{
	Labels:      map[string]string{"sidecar.istio.io/inject": "true", "team": "admin"},
	Annotations: map[string]string{"proxy.istio.io/config": `{"holdApplicationUntilProxyStarts": true}`, "owner": "admin"},
}

func TestAgentPodGetsAdminMetadata(t *testing.T) {
	srv := newTestServer(adminMetadata)
	for name, tc := range map[string]struct {
		pod             []byte
		wantLabels      map[string]any
		wantAnnotations map[string]any
	}{
		"no annotations": {
			pod: agentPodJSON(agentLabels, "", agentContains),
			wantLabels: map[string]any{"workflows.argoproj.io/component": "agent", "workflows.argoproj.io/workflow": "wf",
				"sidecar.istio.io/inject": "true", "team": "admin"},
			wantAnnotations: map[string]any{"proxy.istio.io/config": `{"holdApplicationUntilProxyStarts": true}`, "owner": "admin"},
		},
		"keys the pod has are kept": {
			pod: agentPodJSON(`{"workflows.argoproj.io/component":"agent","team":"mine"}`, `{"owner":"me"}`, agentContains),
			wantLabels: map[string]any{"workflows.argoproj.io/component": "agent", "sidecar.istio.io/inject": "true",
				"team": "mine"},
			wantAnnotations: map[string]any{"proxy.istio.io/config": `{"holdApplicationUntilProxyStarts": true}`, "owner": "me"},
		},
	} {
		resp := post(t, srv, PodsPath, podReview(t, tc.pod))
		got := decodeJSON(t, applyPatch(t, tc.pod, resp))["metadata"].(map[string]any)
		if !reflect.DeepEqual(got["labels"], tc.wantLabels) || !reflect.DeepEqual(got["annotations"], tc.wantAnnotations) {
			t.Errorf("%s: labels %v annotations %v", name, got["labels"], got["annotations"])
		}
	}
}

func TestPodsLeftAlone(t *testing.T) {
	for name, tc := range map[string]struct {
		source  staticSource
		pod     []byte
		warning string
	}{
		"not an agent pod":   {staticSource{md: adminMetadata}, agentPodJSON(`{"workflows.argoproj.io/workflow":"wf"}`, "", agentContains), ""},
		"no plugin sidecar":  {staticSource{md: adminMetadata}, agentPodJSON(agentLabels, "", `[{"name":"main"}]`), ""},
		"nothing configured": {staticSource{md: emptyMetadata()}, agentPodJSON(agentLabels, "", agentContains), ""},
		"all keys present": {staticSource{md: pluginconfig.PodMetadata{Labels: map[string]string{"workflows.argoproj.io/component": "x"}}},
			agentPodJSON(agentLabels, "", agentContains), ""},
		"reserved keys never added": {staticSource{md: pluginconfig.PodMetadata{Labels: map[string]string{"pipelines.kubeflow.org/x": "y"}}},
			agentPodJSON(agentLabels, "", agentContains), ""},
		"invalid ConfigMap": {staticSource{err: errors.New("annotation broken")}, agentPodJSON(agentLabels, "", agentContains), "annotation broken"},
	} {
		resp := post(t, NewServer(Workflows{}, AgentPods{Metadata: tc.source}, NewMetrics()), PodsPath, podReview(t, tc.pod))
		if len(resp.Patch) != 0 {
			t.Errorf("%s: patch %s", name, resp.Patch)
		}
		if tc.warning == "" && len(resp.Warnings) != 0 || tc.warning != "" && (len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], tc.warning)) {
			t.Errorf("%s: warnings %v", name, resp.Warnings)
		}
	}
}

// The agent's patch rate: how long a driver step's answer may wait in the
// agent before Argo sees it.
func TestAgentPatchRateIsCapped(t *testing.T) {
	const slow = `{"name":"ARGO_AGENT_PATCH_RATE","value":"10s"}`
	other := `{"name":"ARGO_WORKFLOW_NAME","value":"wf"}`
	for name, tc := range map[string]struct {
		main    string // the agent's main container's env, JSON; "" for none
		want    any    // ARGO_AGENT_PATCH_RATE afterwards (nil: absent)
		patched bool
	}{
		"Argo's default is lowered":   {main: "[" + other + "," + slow + "]", want: "250ms", patched: true},
		"a faster rate is kept":       {main: `[{"name":"ARGO_AGENT_PATCH_RATE","value":"100ms"}]`, want: "100ms"},
		"an unreadable rate is fixed": {main: `[{"name":"ARGO_AGENT_PATCH_RATE","value":"soon"}]`, want: "250ms", patched: true},
		"missing: appended":           {main: "[" + other + "]", want: "250ms", patched: true},
		"no env at all: added":        {main: "", want: "250ms", patched: true},
		"from a reference: kept": {main: `[{"name":"ARGO_AGENT_PATCH_RATE","valueFrom":{"configMapKeyRef":{"name":"c","key":"k"}}}]`,
			want: nil},
	} {
		main := `{"name":"main"}`
		if tc.main != "" {
			main = `{"name":"main","env":` + tc.main + `}`
		}
		pod := agentPodJSON(agentLabels, "", `[{"name":"driver-plugin"},`+main+`]`)
		srv := NewServer(Workflows{}, AgentPods{Metadata: staticSource{md: emptyMetadata()}, PatchRate: DefaultAgentPatchRate}, NewMetrics())
		resp := post(t, srv, PodsPath, podReview(t, pod))
		if got := len(resp.Patch) > 0; got != tc.patched {
			t.Errorf("%s: patched %v, want %v (%s)", name, got, tc.patched, resp.Patch)
		}
		env := mainEnv(t, applyPatch(t, pod, resp))
		if got := env["ARGO_AGENT_PATCH_RATE"]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ARGO_AGENT_PATCH_RATE %v, want %v", name, got, tc.want)
		}
		if strings.Contains(tc.main, "ARGO_WORKFLOW_NAME") && env["ARGO_WORKFLOW_NAME"] != "wf" {
			t.Errorf("%s: other variables changed: %v", name, env)
		}
	}
}

// Pods that are not the plugin's agent pods, a webhook told to leave the
// rate, and a broken plugin ConfigMap: the rate is set only where it should
// be, and a broken ConfigMap does not stop it.
func TestAgentPatchRateOnlyOnPluginAgents(t *testing.T) {
	withRate := func(src staticSource, rate time.Duration) *Server {
		return NewServer(Workflows{}, AgentPods{Metadata: src, PatchRate: rate}, NewMetrics())
	}
	slowMain := `{"name":"main","env":[{"name":"ARGO_AGENT_PATCH_RATE","value":"10s"}]}`
	for name, tc := range map[string]struct {
		srv  *Server
		pod  []byte
		want any
	}{
		"not an agent pod": {withRate(staticSource{md: emptyMetadata()}, time.Second),
			agentPodJSON(`{"workflows.argoproj.io/workflow":"wf"}`, "", `[{"name":"driver-plugin"},`+slowMain+`]`), "10s"},
		"agent of another plugin": {withRate(staticSource{md: emptyMetadata()}, time.Second),
			agentPodJSON(agentLabels, "", `[{"name":"other-plugin"},`+slowMain+`]`), "10s"},
		"rate 0": {withRate(staticSource{md: emptyMetadata()}, 0), agentPodJSON(agentLabels, "", `[{"name":"driver-plugin"},`+slowMain+`]`), "10s"},
		"invalid ConfigMap": {withRate(staticSource{err: errors.New("broken")}, time.Second),
			agentPodJSON(agentLabels, "", `[{"name":"driver-plugin"},`+slowMain+`]`), "1s"},
	} {
		resp := post(t, tc.srv, PodsPath, podReview(t, tc.pod))
		if got := mainEnv(t, applyPatch(t, tc.pod, resp))["ARGO_AGENT_PATCH_RATE"]; got != tc.want {
			t.Errorf("%s: ARGO_AGENT_PATCH_RATE %v, want %v", name, got, tc.want)
		}
	}
}

// mainEnv returns the env of the pod's container "main" by name (values;
// nil for a reference).
func mainEnv(t *testing.T, pod []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	containers, _ := decodeJSON(t, pod)["spec"].(map[string]any)["containers"].([]any)
	for _, c := range containers {
		c := c.(map[string]any)
		if c["name"] != "main" {
			continue
		}
		env, _ := c["env"].([]any)
		for _, e := range env {
			e := e.(map[string]any)
			out[e["name"].(string)] = e["value"]
		}
	}
	return out
}
