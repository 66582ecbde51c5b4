package platform

import (
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
)

func TestSecretsAsVolume(t *testing.T) {
	runCases(t, []applyCase{
		{name: "deprecated name, optional defaults to false", cfg: `{"secretAsVolume": [{"secretName": "s1", "mountPath": "/s"}]}`,
			want: `{"volumes": [{"name": "s1", "secret": {"secretName": "s1", "optional": false}}], "mounts": [{"name": "s1", "mountPath": "/s"}]}`,
			sum:  "1 secret as volume"},
		{name: "parameter wins, optional true", cfg: `{"secretAsVolume": [{"secretName": "not-used", "secretNameParameter": {"componentInputParameter": "p"}, "mountPath": "/s", "optional": true}]}`,
			in:   inputs(map[string]any{"p": "s1"}),
			want: `{"volumes": [{"name": "s1", "secret": {"secretName": "s1", "optional": true}}], "mounts": [{"name": "s1", "mountPath": "/s"}]}`},
		{name: "null input skips the entry", cfg: `{"secretAsVolume": [{"secretNameParameter": {"componentInputParameter": "p"}, "mountPath": "/s"}, {"secretName": "s2", "mountPath": "/t"}]}`,
			in:   inputs(map[string]any{"p": nil}),
			want: `{"volumes": [{"name": "s2", "secret": {"secretName": "s2", "optional": false}}], "mounts": [{"name": "s2", "mountPath": "/t"}]}`,
			sum:  "1 secret as volume; skipped 1 entry with null input (secretAsVolume[0])"},
		{name: "no name", cfg: `{"secretAsVolume": [{"mountPath": "/s"}]}`, err: "secretAsVolume[0]: one of secretNameParameter or secretName is required"},
		{name: "no mount path", cfg: `{"secretAsVolume": [{"secretName": "s1"}]}`, err: "secretAsVolume[0].mountPath: is required"},
		{name: "list input", cfg: `{"secretAsVolume": [{"secretNameParameter": {"componentInputParameter": "p"}, "mountPath": "/s"}]}`,
			in: inputs(map[string]any{"p": []any{"a"}}), err: `secretAsVolume[0].secretNameParameter: component input "p" must resolve to a string, got a list`},
	})
}

func TestSecretsAsEnv(t *testing.T) {
	env := func(name, key, opt string) string {
		return `{"name": "` + name + `", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "` + key + `"` + opt + `}}}`
	}
	runCases(t, []applyCase{
		{name: "optional unset is not written", cfg: `{"secretAsEnv": [{"secretName": "s1", "keyToEnv": [{"secretKey": "user", "envVar": "USER"}, {"secretKey": "pass", "envVar": "PASS"}]}]}`,
			want: `{"env": [` + env("USER", "user", "") + `, ` + env("PASS", "pass", "") + `]}`, sum: "1 secret as env"},
		{name: "optional true", cfg: `{"secretAsEnv": [{"secretNameParameter": {"runtimeValue": {"constant": "s1"}}, "optional": true, "keyToEnv": [{"secretKey": "k", "envVar": "V"}]}]}`,
			want: `{"env": [` + env("V", "k", `, "optional": true`) + `]}`},
		{name: "task output name", cfg: `{"secretAsEnv": [{"secretNameParameter": {"taskOutputParameter": {"producerTask": "gen", "outputParameterKey": "out"}}, "keyToEnv": [{"secretKey": "k", "envVar": "V"}]}]}`,
			in:   MapInputs{Outputs: map[string]map[string]*structpb.Value{"gen": {"out": structpb.NewStringValue("s1")}}},
			want: `{"env": [` + env("V", "k", "") + `]}`},
		{name: "two secrets", cfg: `{"secretAsEnv": [{"secretName": "s1", "keyToEnv": [{"secretKey": "k", "envVar": "A"}]}, {"secretName": "s1", "keyToEnv": [{"secretKey": "k", "envVar": "B"}]}]}`,
			want: `{"env": [` + env("A", "k", "") + `, ` + env("B", "k", "") + `]}`, sum: "2 secrets as env"},
		{name: "null skips", cfg: `{"secretAsEnv": [{"secretNameParameter": {"componentInputParameter": "p"}, "keyToEnv": [{"secretKey": "k", "envVar": "V"}]}]}`,
			in: inputs(map[string]any{"p": nil}), want: `{}`, sum: "skipped 1 entry with null input (secretAsEnv[0])"},
		{name: "no env var name", cfg: `{"secretAsEnv": [{"secretName": "s1", "keyToEnv": [{"secretKey": "k"}]}]}`,
			err: "secretAsEnv[0].keyToEnv[0].envVar: the environment variable name is required"},
		{name: "bad key", cfg: `{"secretAsEnv": [{"secretName": "s1", "keyToEnv": [{"secretKey": "a/b", "envVar": "V"}]}]}`,
			err: `secretAsEnv[0].keyToEnv[0].secretKey: "a/b"`},
	})
}

func TestConfigMaps(t *testing.T) {
	runCases(t, []applyCase{
		{name: "volume", cfg: `{"configMapAsVolume": [{"configMapNameParameter": {"componentInputParameter": "cm"}, "mountPath": "/c", "optional": true}]}`,
			in:   inputs(map[string]any{"cm": "my-cm"}),
			want: `{"volumes": [{"name": "my-cm", "configMap": {"name": "my-cm", "optional": true}}], "mounts": [{"name": "my-cm", "mountPath": "/c"}]}`,
			sum:  "1 config map as volume"},
		{name: "env, deprecated name", cfg: `{"configMapAsEnv": [{"configMapName": "my-cm", "keyToEnv": [{"configMapKey": "k", "envVar": "V"}]}]}`,
			want: `{"env": [{"name": "V", "valueFrom": {"configMapKeyRef": {"name": "my-cm", "key": "k"}}}]}`, sum: "1 config map as env"},
		{name: "env optional false", cfg: `{"configMapAsEnv": [{"configMapName": "my-cm", "optional": false, "keyToEnv": [{"configMapKey": "k", "envVar": "V"}]}]}`,
			want: `{"env": [{"name": "V", "valueFrom": {"configMapKeyRef": {"name": "my-cm", "key": "k", "optional": false}}}]}`},
		{name: "null skips both", cfg: `{"configMapAsVolume": [{"configMapNameParameter": {"componentInputParameter": "cm"}, "mountPath": "/c"}],
				"configMapAsEnv": [{"configMapNameParameter": {"componentInputParameter": "cm"}, "keyToEnv": [{"configMapKey": "k", "envVar": "V"}]}]}`,
			in: inputs(map[string]any{"cm": nil}), want: `{}`},
		{name: "no name", cfg: `{"configMapAsEnv": [{"keyToEnv": []}]}`, err: "configMapAsEnv[0]: one of configMapNameParameter or configMapName is required"},
		{name: "empty key", cfg: `{"configMapAsEnv": [{"configMapName": "c", "keyToEnv": [{"envVar": "V"}]}]}`, err: "configMapAsEnv[0].keyToEnv[0].configMapKey"},
	})
}

func TestImagePullSecrets(t *testing.T) {
	runCases(t, []applyCase{
		{name: "both kinds, deduplicated", cfg: `{"imagePullSecret": [{"secretName": "a"}, {"secretNameParameter": {"runtimeValue": {"constant": "b"}}}, {"secretName": "a"}]}`,
			want: `{"imagePullSecrets": [{"name": "a"}, {"name": "b"}]}`, sum: "2 image pull secrets"},
		{name: "null skips", cfg: `{"imagePullSecret": [{"secretNameParameter": {"componentInputParameter": "p"}}]}`,
			in: inputs(map[string]any{"p": nil}), want: `{}`},
		{name: "no name", cfg: `{"imagePullSecret": [{}]}`, err: "imagePullSecret[0]: one of secretNameParameter or secretName is required"},
	})
}
