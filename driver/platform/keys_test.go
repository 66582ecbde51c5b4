package platform

import (
	"testing"
)

// TestUnknownFieldsAreRejected: a key this driver does not handle, at any
// depth, fails the task with its path instead of being dropped.
func TestUnknownFieldsAreRejected(t *testing.T) {
	runCases(t, []applyCase{
		{name: "top level", cfg: `{"secretAsEnv": [], "gpuSharing": {"enabled": true}}`,
			err: "kubernetes_config.gpuSharing: unknown field: this driver does not know what it means"},
		{name: "in a list item", cfg: `{"secretAsEnv": [{"secretName": "s", "keyToEnv": [], "mountPath": "/x"}]}`,
			err: "kubernetes_config.secretAsEnv[0].mountPath: unknown field"},
		{name: "nested", cfg: `{"secretAsEnv": [{"secretName": "s", "keyToEnv": [{"secretKey": "k", "envVar": "V", "default": "x"}]}]}`,
			err: "kubernetes_config.secretAsEnv[0].keyToEnv[0].default: unknown field"},
		{name: "in an object", cfg: `{"nodeSelector": {"labels": {}, "matchExpressions": []}}`,
			err: "kubernetes_config.nodeSelector.matchExpressions: unknown field"},
		{name: "in a parameter spec", cfg: `{"imagePullSecret": [{"secretNameParameter": {"componentInputParam": "x"}}]}`,
			err: `kubernetes_config.imagePullSecret[0].secretNameParameter: proto:`},
		{name: "differently cased", cfg: `{"SecretAsEnv": []}`, err: "kubernetes_config.SecretAsEnv: unknown field"},
		{name: "known but unsupported", cfg: `{"podResourceClaims": [{"resourceClaimTemplateName": "gpu"}]}`,
			err: "kubernetes_config.podResourceClaims: not supported: dynamic resource allocation claims"},
	})
}

func TestValueTypesAreChecked(t *testing.T) {
	runCases(t, []applyCase{
		{name: "string", cfg: `{"imagePullPolicy": 1}`, err: "kubernetes_config.imagePullPolicy: must be a string, got a number"},
		{name: "list", cfg: `{"secretAsEnv": {"secretName": "s"}}`, err: "kubernetes_config.secretAsEnv: must be a list, got an object"},
		{name: "object", cfg: `{"nodeSelector": ["a"]}`, err: "kubernetes_config.nodeSelector: must be an object, got a list"},
		{name: "bool", cfg: `{"secretAsVolume": [{"secretName": "s", "mountPath": "/s", "optional": "yes"}]}`,
			err: "kubernetes_config.secretAsVolume[0].optional: must be a boolean, got a string"},
		{name: "list of strings", cfg: `{"initContainers": [{"name": "a", "image": "b", "args": [1]}]}`,
			err: "kubernetes_config.initContainers[0].args[0]: must be a string, got a number"},
		{name: "whole config", cfg: `[]`, err: "kubernetes_config: must be an object, got a list"},
		{name: "not JSON", cfg: `{`, err: "kubernetes_config: not valid JSON"},
	})
}

// protojson accepts the proto field names too; so do we.
func TestProtoFieldNames(t *testing.T) {
	runCases(t, []applyCase{
		{name: "snake case", cfg: `{"secret_as_env": [{"secret_name_parameter": {"runtime_value": {"constant": "s"}}, "key_to_env": [{"secret_key": "k", "env_var": "V"}]}],
				"active_deadline_seconds": "5"}`,
			want: `{"env": [{"name": "V", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}], "activeDeadlineSeconds": 5}`},
		{name: "both spellings", cfg: `{"pvcMount": [], "pvc_mount": []}`, err: `kubernetes_config.pvcMount: given twice (as "pvcMount" and "pvc_mount")`},
		{name: "null is unset", cfg: `{"nodeSelector": null, "secretAsEnv": null, "imagePullPolicy": null}`, want: `{}`},
		{name: "null config", cfg: `null`, want: `{}`},
	})
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"secretAsEnv": "secret_as_env", "nodeAffinityJson": "node_affinity_json", "name": "name", "pvcNameParameter": "pvc_name_parameter",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
