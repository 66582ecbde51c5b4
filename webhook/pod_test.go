package webhook

import (
	"errors"
	"reflect"
	"strings"
	"testing"

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
		resp := post(t, NewServer(tc.source, NewMetrics()), PodsPath, podReview(t, tc.pod))
		if len(resp.Patch) != 0 {
			t.Errorf("%s: patch %s", name, resp.Patch)
		}
		if tc.warning == "" && len(resp.Warnings) != 0 || tc.warning != "" && (len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], tc.warning)) {
			t.Errorf("%s: warnings %v", name, resp.Warnings)
		}
	}
}
