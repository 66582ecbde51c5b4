package platform

import (
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/kubernetes_platform/go/kubernetesplatform"
)

// Without raw JSON the generated (older) type is used.
func TestApplyTypedConfigOnly(t *testing.T) {
	cfg := &kubernetesplatform.KubernetesExecutorConfig{
		SecretAsEnv: []*kubernetesplatform.SecretAsEnv{{SecretName: "s", KeyToEnv: []*kubernetesplatform.SecretAsEnv_SecretKeyToEnvMap{{SecretKey: "k", EnvVar: "V"}}}},
		PvcMount:    []*kubernetesplatform.PvcMount{{MountPath: "/d", PvcReference: &kubernetesplatform.PvcMount_Constant{Constant: "data"}}},
		Tolerations: []*kubernetesplatform.Toleration{{Key: "k", Operator: "Exists"}},
		PodAffinity: []*kubernetesplatform.PodAffinityTerm{{MatchPodLabels: map[string]string{"a": "b"}, TopologyKey: "zone", Weight: ptr(int32(5))}},
	}
	spec := baseSpec()
	sum, err := Apply(spec, cfg, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertView(t, spec, `{
		"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
		"mounts": [{"name": "data", "mountPath": "/d"}],
		"env": [{"name": "V", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
		"tolerations": [{"key": "k", "operator": "Exists"}],
		"affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
			{"weight": 5, "podAffinityTerm": {"labelSelector": {"matchLabels": {"a": "b"}}, "topologyKey": "zone"}}]}}}`)
	want := `mounted pvc "data" at /d; 1 toleration; 1 secret as env; 1 pod affinity term`
	if sum.String() != want {
		t.Errorf("summary %q, want %q", sum, want)
	}
}

// Raw JSON wins over the typed config: it is the original and may hold
// more.
func TestApplyPrefersRaw(t *testing.T) {
	cfg := &kubernetesplatform.KubernetesExecutorConfig{ImagePullPolicy: "Never"}
	spec := baseSpec()
	if _, err := Apply(spec, cfg, []byte(`{"imagePullPolicy": "Always"}`), nil, Options{}); err != nil {
		t.Fatal(err)
	}
	assertView(t, spec, `{"pullPolicy": "Always"}`)
}

func TestApplyNothing(t *testing.T) {
	spec := baseSpec()
	sum, err := Apply(spec, nil, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertView(t, spec, `{}`)
	if sum.String() != "" {
		t.Errorf("summary %q for an empty config", sum)
	}
	if _, err := Apply(nil, nil, nil, nil, Options{}); err == nil {
		t.Error("no error for a nil spec")
	}
}

// A failing feature late in the order leaves the spec as it was.
func TestApplyIsAllOrNothing(t *testing.T) {
	spec := baseSpec()
	_, err := Apply(spec, nil, []byte(`{"pvcMount": [{"mountPath": "/d", "constant": "data"}], "initContainers": [{"name": "x"}]}`),
		nil, Options{DefaultHostUsers: ptr(false)})
	checkErr(t, err, "initContainers[0].image: is required")
	if len(spec.Volumes) != 0 || len(spec.Containers[0].VolumeMounts) != 0 || spec.HostUsers != nil {
		t.Errorf("spec changed: %+v", spec)
	}
}

func TestSummaryString(t *testing.T) {
	s := &Summary{
		Applied:  []string{`mounted pvc "data" at /data`, "2 secrets as env", "node selector"},
		Skipped:  []string{"tolerations[0]", "nodeAffinity[1]"},
		Warnings: []string{"ignored securityContext.runAsUser=0 (admin default 1000)"},
	}
	want := `mounted pvc "data" at /data; 2 secrets as env; node selector; ` +
		`skipped 2 entries with null input (tolerations[0], nodeAffinity[1]); ignored securityContext.runAsUser=0 (admin default 1000)`
	if s.String() != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	var none *Summary
	if none.String() != "" {
		t.Error("nil summary is not empty")
	}
}

// Feature order fixes env and volume order, and the summary lists features
// in that order whatever the key order of the JSON.
func TestSummaryOrderIsDeterministic(t *testing.T) {
	cfg := `{"nodeSelector": {"labels": {"a": "b"}}, "secretAsEnv": [{"secretName": "s", "keyToEnv": [{"secretKey": "k", "envVar": "V"}]}],
		"pvcMount": [{"mountPath": "/data", "constant": "data"}], "activeDeadlineSeconds": "9"}`
	for range 5 {
		sum, err := Apply(baseSpec(), nil, []byte(cfg), nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := sum.String(), `mounted pvc "data" at /data; node selector; 1 secret as env; timeout 9s`; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestFieldErrorFormat(t *testing.T) {
	_, err := Apply(baseSpec(), nil, []byte(`{"emptyDirMounts": [{"volumeName": "v", "mountPath": "/v", "sizeLimit": "1 Gi"}]}`), nil, Options{})
	const want = `kubernetes_config.emptyDirMounts[0].sizeLimit: "1 Gi": quantities must match the regular expression`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v, want prefix %s", err, want)
	}
}
