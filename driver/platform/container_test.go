package platform

import "testing"

func TestImagePullPolicy(t *testing.T) {
	runCases(t, []applyCase{
		{name: "Always", cfg: `{"imagePullPolicy": "Always"}`, want: `{"pullPolicy": "Always"}`, sum: "pull policy Always"},
		{name: "IfNotPresent", cfg: `{"imagePullPolicy": "IfNotPresent"}`, want: `{"pullPolicy": "IfNotPresent"}`},
		{name: "unset", cfg: `{"imagePullPolicy": ""}`, want: `{}`},
		{name: "bad", cfg: `{"imagePullPolicy": "always"}`, err: `kubernetes_config.imagePullPolicy: unsupported value "always": must be Always, Never or IfNotPresent`},
	})
}

func TestFieldPathEnv(t *testing.T) {
	runCases(t, []applyCase{
		{name: "two", cfg: `{"fieldPathAsEnv": [{"name": "POD", "fieldPath": "metadata.name"}, {"name": "RUN", "fieldPath": "metadata.annotations['run']"}]}`,
			want: `{"env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}, {"name": "RUN", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['run']"}}}]}`,
			sum:  "2 field path env vars"},
		{name: "no name", cfg: `{"fieldPathAsEnv": [{"fieldPath": "metadata.name"}]}`, err: "fieldPathAsEnv[0].name: the environment variable name is required"},
		{name: "no path", cfg: `{"fieldPathAsEnv": [{"name": "POD"}]}`, err: "fieldPathAsEnv[0].fieldPath: is required"},
	})
}

func TestActiveDeadline(t *testing.T) {
	runCases(t, []applyCase{
		{name: "protojson string", cfg: `{"activeDeadlineSeconds": "3600"}`, want: `{"activeDeadlineSeconds": 3600}`, sum: "timeout 3600s"},
		{name: "number", cfg: `{"activeDeadlineSeconds": 20}`, want: `{"activeDeadlineSeconds": 20}`},
		{name: "zero is unset", cfg: `{"activeDeadlineSeconds": "0"}`, want: `{}`},
		{name: "negative", cfg: `{"activeDeadlineSeconds": "-5"}`, err: "kubernetes_config.activeDeadlineSeconds: -5: must not be negative"},
		{name: "fraction", cfg: `{"activeDeadlineSeconds": 1.5}`, err: "activeDeadlineSeconds: 1.5 is not an integer"},
	})
}

// podMetadata belongs to the pod, not its spec: the compiler already put it
// on the executor template, so it is accepted and adds nothing here.
func TestPodMetadataIsNotInThePatch(t *testing.T) {
	runCases(t, []applyCase{
		{name: "labels and annotations", cfg: `{"podMetadata": {"labels": {"a": "b"}, "annotations": {"c": "d"}}}`, want: `{}`},
		{name: "unknown key still checked", cfg: `{"podMetadata": {"finalizers": ["x"]}}`, err: "podMetadata.finalizers: unknown field"},
		{name: "values must be strings", cfg: `{"podMetadata": {"labels": {"a": 1}}}`, err: `podMetadata.labels["a"]: must be a string, got a number`},
	})
}
