package platform

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestNodeSelector(t *testing.T) {
	withSelector := func() *corev1.PodSpec {
		s := baseSpec()
		s.NodeSelector = map[string]string{"kubernetes.io/os": "linux", "disk": "hdd"}
		return s
	}
	runCases(t, []applyCase{
		{name: "labels", cfg: `{"nodeSelector": {"labels": {"disk": "ssd"}}}`, want: `{"nodeSelector": {"disk": "ssd"}}`, sum: "node selector"},
		{name: "json wins over labels", cfg: `{"nodeSelector": {"labels": {"disk": "ssd"}, "nodeSelectorJson": {"componentInputParameter": "sel"}}}`,
			in: inputs(map[string]any{"sel": map[string]any{"zone": "a"}}), want: `{"nodeSelector": {"zone": "a"}}`},
		{name: "json constant", cfg: `{"nodeSelector": {"nodeSelectorJson": {"runtimeValue": {"constant": {"zone": "a"}}}}}`, want: `{"nodeSelector": {"zone": "a"}}`},
		{name: "empty json selects any node", cfg: `{"nodeSelector": {"nodeSelectorJson": {"componentInputParameter": "sel"}}}`,
			in: inputs(map[string]any{"sel": map[string]any{}}), want: `{}`},
		{name: "null skips", cfg: `{"nodeSelector": {"nodeSelectorJson": {"componentInputParameter": "sel"}}}`,
			in: inputs(map[string]any{"sel": nil}), want: `{}`, sum: "skipped 1 entry with null input (nodeSelector)"},
		{name: "merged with the patch's", spec: withSelector, cfg: `{"nodeSelector": {"labels": {"disk": "ssd"}}}`,
			want: `{"nodeSelector": {"kubernetes.io/os": "linux", "disk": "ssd"}}`},
		{name: "json not an object", cfg: `{"nodeSelector": {"nodeSelectorJson": {"componentInputParameter": "sel"}}}`,
			in: inputs(map[string]any{"sel": "zone=a"}), err: "nodeSelector.nodeSelectorJson: must resolve to an object of strings, got a string"},
		{name: "json value not a string", cfg: `{"nodeSelector": {"nodeSelectorJson": {"componentInputParameter": "sel"}}}`,
			in: inputs(map[string]any{"sel": map[string]any{"gpus": 2}}), err: `nodeSelector.nodeSelectorJson: value of "gpus" must be a string, got a number`},
		{name: "bad label key", cfg: `{"nodeSelector": {"labels": {"bad key": "x"}}}`, err: `nodeSelector.labels: key "bad key"`},
		{name: "bad label value", cfg: `{"nodeSelector": {"labels": {"k": "a b"}}}`, err: `nodeSelector.labels: value of "k"`},
	})
}

func TestTolerations(t *testing.T) {
	runCases(t, []applyCase{
		{name: "static", cfg: `{"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}, {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": "30"}]}`,
			want: `{"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}, {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 30}]}`,
			sum:  "2 tolerations"},
		{name: "json object", cfg: `{"tolerations": [{"tolerationJson": {"componentInputParameter": "t"}}]}`,
			in:   inputs(map[string]any{"t": map[string]any{"key": "k", "operator": "Exists"}}),
			want: `{"tolerations": [{"key": "k", "operator": "Exists"}]}`, sum: "1 toleration"},
		{name: "json list", cfg: `{"tolerations": [{"tolerationJson": {"componentInputParameter": "t"}}]}`,
			in:   inputs(map[string]any{"t": []any{map[string]any{"key": "a", "operator": "Exists"}, map[string]any{"key": "b", "value": "1"}}}),
			want: `{"tolerations": [{"key": "a", "operator": "Exists"}, {"key": "b", "value": "1"}]}`, sum: "2 tolerations"},
		{name: "json wins over static fields", cfg: `{"tolerations": [{"key": "static", "operator": "Exists", "tolerationJson": {"runtimeValue": {"constant": {"key": "dyn", "operator": "Exists"}}}}]}`,
			want: `{"tolerations": [{"key": "dyn", "operator": "Exists"}]}`},
		{name: "empty json ignored", cfg: `{"tolerations": [{"tolerationJson": {"componentInputParameter": "a"}}, {"tolerationJson": {"componentInputParameter": "b"}}]}`,
			in: inputs(map[string]any{"a": map[string]any{}, "b": []any{}}), want: `{}`},
		{name: "null skips one entry", cfg: `{"tolerations": [{"tolerationJson": {"componentInputParameter": "a"}}, {"key": "k", "operator": "Exists"}]}`,
			in: inputs(map[string]any{"a": nil}), want: `{"tolerations": [{"key": "k", "operator": "Exists"}]}`,
			sum: "1 toleration; skipped 1 entry with null input (tolerations[0])"},
		{name: "json of another kind", cfg: `{"tolerations": [{"tolerationJson": {"componentInputParameter": "a"}}]}`,
			in: inputs(map[string]any{"a": "key=k"}), err: "tolerations[0].tolerationJson: must resolve to a toleration object or a list of them, got a string"},
		{name: "json with unknown key", cfg: `{"tolerations": [{"tolerationJson": {"componentInputParameter": "a"}}]}`,
			in: inputs(map[string]any{"a": map[string]any{"key": "k", "operater": "Exists"}}), err: `tolerations[0].tolerationJson: not a valid toleration: json: unknown field "operater"`},
		{name: "bad operator", cfg: `{"tolerations": [{"key": "k", "operator": "Is"}]}`, err: `tolerations[0].operator: unsupported value "Is"`},
		{name: "empty key needs Exists", cfg: `{"tolerations": [{"value": "v"}]}`, err: "tolerations[0].operator: must be Exists when key is empty"},
		{name: "Exists with value", cfg: `{"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]}`, err: "tolerations[0].value: must be empty when operator is Exists"},
		{name: "bad effect", cfg: `{"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoRun"}]}`, err: `tolerations[0].effect: unsupported value "NoRun"`},
		{name: "seconds without NoExecute", cfg: `{"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]}`,
			err: "tolerations[0].tolerationSeconds: is only valid with effect NoExecute"},
		{name: "seconds not an integer", cfg: `{"tolerations": [{"key": "k", "effect": "NoExecute", "tolerationSeconds": "soon"}]}`,
			err: "tolerations[0].tolerationSeconds: soon is not an integer"},
	})
}

func TestNodeAffinity(t *testing.T) {
	term := `{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}`
	runCases(t, []applyCase{
		{name: "static required", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}],
				"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}]}`,
			want: `{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
				{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}], "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}]}}}}`,
			sum: "node affinity"},
		{name: "static preferred", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}], "weight": 10}]}`,
			want: `{"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": ` + term + `}]}}}`},
		{name: "json and static merge", cfg: `{"nodeAffinity": [{"nodeAffinityJson": {"componentInputParameter": "aff"}}, {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}`,
			in: inputs(map[string]any{"aff": jsonValue(`{"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}]},
				"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [{"key": "cpu", "operator": "Gt", "values": ["4"]}]}}]}`)}),
			want: `{"affinity": {"nodeAffinity": {
				"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, ` + term + `]},
				"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [{"key": "cpu", "operator": "Gt", "values": ["4"]}]}}]}}}`},
		{name: "empty term ignored with a warning", cfg: `{"nodeAffinity": [{}]}`, want: `{}`, sum: "ignored empty nodeAffinity[0]"},
		{name: "null json skipped", cfg: `{"nodeAffinity": [{"nodeAffinityJson": {"componentInputParameter": "aff"}}]}`,
			in: inputs(map[string]any{"aff": nil}), want: `{}`, sum: "skipped 1 entry with null input (nodeAffinity[0])"},
		{name: "json not an object", cfg: `{"nodeAffinity": [{"nodeAffinityJson": {"componentInputParameter": "aff"}}]}`,
			in: inputs(map[string]any{"aff": []any{}}), err: "nodeAffinity[0].nodeAffinityJson: must resolve to a NodeAffinity object, got a list"},
		{name: "json misspelt", cfg: `{"nodeAffinity": [{"nodeAffinityJson": {"runtimeValue": {"constant": {"requiredDuringScheduling": {}}}}}]}`,
			err: `nodeAffinity[0].nodeAffinityJson: not a valid NodeAffinity: json: unknown field "requiredDuringScheduling"`},
		{name: "json bad weight", cfg: `{"nodeAffinity": [{"nodeAffinityJson": {"runtimeValue": {"constant": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {}}]}}}}]}`,
			err: "nodeAffinity[0].nodeAffinityJson.preferredDuringSchedulingIgnoredDuringExecution[0].weight: 0: must be between 1 and 100"},
		{name: "bad operator", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "zone", "operator": "Near", "values": ["a"]}]}]}`,
			err: `nodeAffinity[0].matchExpressions[0].operator: unsupported value "Near"`},
		{name: "In without values", cfg: `{"nodeAffinity": [{"matchFields": [{"key": "metadata.name", "operator": "In"}]}]}`,
			err: "nodeAffinity[0].matchFields[0].values: must not be empty for operator In"},
		{name: "Gt needs one integer", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "cpu", "operator": "Gt", "values": ["many"]}]}]}`,
			err: `nodeAffinity[0].matchExpressions[0].values: "many" is not an integer`},
		{name: "weight too big", cfg: `{"nodeAffinity": [{"matchExpressions": [{"key": "zone", "operator": "Exists"}], "weight": 101}]}`,
			err: "nodeAffinity[0].weight: 101: must be between 1 and 100"},
	})
}

func TestPodAffinity(t *testing.T) {
	runCases(t, []applyCase{
		{name: "required affinity and preferred anti-affinity", cfg: `{"podAffinity": [
				{"matchPodLabels": {"app": "db"}, "topologyKey": "kubernetes.io/hostname"},
				{"matchPodExpressions": [{"key": "app", "operator": "In", "values": ["web"]}], "topologyKey": "zone", "weight": 20, "anti": true,
				 "namespaces": ["ns1"], "matchNamespaceLabels": {"team": "a"}}]}`,
			want: `{"affinity": {
				"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]},
				"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 20, "podAffinityTerm": {
					"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
					"namespaces": ["ns1"], "topologyKey": "zone", "namespaceSelector": {"matchLabels": {"team": "a"}}}}]}}}`,
			sum: "2 pod affinity terms"},
		{name: "no topology key", cfg: `{"podAffinity": [{"matchPodLabels": {"app": "db"}}]}`, err: "podAffinity[0].topologyKey: is required"},
		{name: "node-only operator", cfg: `{"podAffinity": [{"matchPodExpressions": [{"key": "n", "operator": "Gt", "values": ["1"]}], "topologyKey": "zone"}]}`,
			err: `podAffinity[0].matchPodExpressions[0].operator: unsupported value "Gt": must be In, NotIn, Exists or DoesNotExist`},
		{name: "bad weight", cfg: `{"podAffinity": [{"topologyKey": "zone", "weight": -1}]}`, err: "podAffinity[0].weight: -1: must be between 1 and 100"},
		{name: "bad namespace label", cfg: `{"podAffinity": [{"topologyKey": "zone", "matchNamespaceLabels": {"team": "a b"}}]}`,
			err: `podAffinity[0].matchNamespaceLabels: value of "team"`},
	})
}
