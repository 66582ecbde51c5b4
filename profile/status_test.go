package profile

import (
	"reflect"
	"testing"
)

// observedFrom files desired attachments the way metacontroller reports
// them: by type, keyed "<namespace>/<name>".
func observedFrom(objs []Object) map[string]map[string]Object {
	m := emptyAttachments()
	for _, o := range objs {
		m[typeKey(o)][namespaceOf(o)+"/"+name(o)] = o
	}
	return m
}

func TestStatusTrueOnlyOnExactMatch(t *testing.T) {
	s := testSettings()
	desired, err := Desired(testNS, s, istioMetadata(), testSecret())
	if err != nil {
		t.Fatal(err)
	}
	ready := func(observed map[string]map[string]Object) map[string]any {
		return syncNS(t, s, istioMetadata(), observed).Status
	}
	if st := ready(observedFrom(desired)); st[ReadyKey] != "True" || len(st) != 1 {
		t.Fatalf("observed == desired: status %v, want only %s=True", st, ReadyKey)
	}

	cases := map[string]struct {
		edit func(map[string]map[string]Object)
		want map[string]any
	}{
		"nothing observed yet": {func(o map[string]map[string]Object) {
			for k := range o {
				o[k] = map[string]Object{}
			}
		}, nil},
		"one missing": {func(o map[string]map[string]Object) {
			delete(o["ConfigMap.v1"], testNS+"/"+LauncherConfigMap)
		}, map[string]any{ReadyKey: "False", "missing": []string{"ConfigMap.v1 team-a/kfp-launcher"}}},
		"one extra (proxy left over)": {func(o map[string]map[string]Object) {
			o["Deployment.apps/v1"][testNS+"/"+ArtifactProxy] = Object{"kind": "Deployment", "metadata": map[string]any{"name": ArtifactProxy, "namespace": testNS}}
		}, map[string]any{ReadyKey: "False", "unexpected": []string{"Deployment.apps/v1 team-a/ml-pipeline-ui-artifact"}}},
		"one stale (settings changed)": {func(o map[string]map[string]Object) {
			cm := o["ConfigMap.v1"][testNS+"/"+LauncherConfigMap]
			metadata(cm)["annotations"] = map[string]any{HashAnnotation: "0000000000000000"}
		}, map[string]any{ReadyKey: "False", "outdated": []string{"ConfigMap.v1 team-a/kfp-launcher"}}},
		"created by sync.py (no hash)": {func(o map[string]map[string]Object) {
			o["ConfigMap.v1"][testNS+"/"+MetadataConfigMap] = Object{"kind": "ConfigMap", "metadata": map[string]any{"name": MetadataConfigMap, "namespace": testNS}}
		}, map[string]any{ReadyKey: "False", "outdated": []string{"ConfigMap.v1 team-a/metadata-grpc-configmap"}}},
		"same count, other name": {func(o map[string]map[string]Object) {
			delete(o["ConfigMap.v1"], testNS+"/"+MetadataConfigMap)
			o["ConfigMap.v1"][testNS+"/other"] = Object{"kind": "ConfigMap", "metadata": map[string]any{"name": "other", "namespace": testNS}}
		}, map[string]any{ReadyKey: "False", "missing": []string{"ConfigMap.v1 team-a/metadata-grpc-configmap"}, "unexpected": []string{"ConfigMap.v1 team-a/other"}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			desired, _ := Desired(testNS, s, istioMetadata(), testSecret())
			observed := observedFrom(desired)
			c.edit(observed)
			st := ready(observed)
			if st[ReadyKey] != "False" {
				t.Fatalf("status %v, want False", st)
			}
			if c.want != nil && !reflect.DeepEqual(st, c.want) {
				t.Errorf("status %v\nwant   %v", st, c.want)
			}
		})
	}
}

// A settings change makes a previously ready namespace not ready until the
// new children are applied: the expectation comes from the same code.
func TestStatusFollowsSettings(t *testing.T) {
	before := testSettings()
	desired, _ := Desired(testNS, before, noMetadata(), testSecret())
	observed := observedFrom(desired)
	after := before
	after.ClusterDomain = ".svc.example.org"
	st := syncNS(t, after, noMetadata(), observed).Status
	want := []string{"ConfigMap.v1 team-a/artifact-repositories", "ConfigMap.v1 team-a/kfp-launcher"}
	if st[ReadyKey] != "False" || !reflect.DeepEqual(st["outdated"], want) {
		t.Errorf("status %v, want the two ConfigMaps that carry the domain outdated", st)
	}
	// Turning the proxy on: two more children missing, nothing else.
	after = before
	after.ArtifactsProxy = true
	st = syncNS(t, after, noMetadata(), observed).Status
	want = []string{"Deployment.apps/v1 team-a/ml-pipeline-ui-artifact", "Service.v1 team-a/ml-pipeline-ui-artifact"}
	if !reflect.DeepEqual(st["missing"], want) || st["outdated"] != nil {
		t.Errorf("status %v, want only the proxy missing", st)
	}
}

func TestAttachmentTypesComplete(t *testing.T) {
	s := testSettings()
	s.ArtifactsProxy, s.APIToken = true, true
	desired, err := Desired(testNS, s, istioMetadata(), testSecret())
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, k := range AttachmentTypes {
		declared[k] = true
	}
	emitted := map[string]bool{}
	for _, o := range desired {
		emitted[typeKey(o)] = true
		if !declared[typeKey(o)] {
			t.Errorf("the hook emits %s, which AttachmentTypes does not list", typeKey(o))
		}
	}
	for k := range declared {
		if !emitted[k] {
			t.Errorf("AttachmentTypes lists %s, which the hook never emits", k)
		}
	}
}

// The kept artifact Secret hashes to the same value sync after sync, so a
// namespace with its own credentials becomes ready.
func TestStatusReadyWithKeptSecret(t *testing.T) {
	observed := emptyAttachments()
	observed["Secret.v1"][testNS+"/"+ArtifactSecret] = existingSecret()
	first := syncNS(t, testSettings(), noMetadata(), observed)
	second := syncNS(t, testSettings(), noMetadata(), observedFrom(first.Attachments))
	if second.Status[ReadyKey] != "True" {
		t.Errorf("status %v after applying the hook's own answer", second.Status)
	}
}
