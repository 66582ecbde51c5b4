package profile

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Names of the plugin's children. Argo looks up the account
// "<plugin>-executor-plugin" in the workflow's namespace and mounts the token
// of the Secret "<account>.service-account-token" (its fallback when the
// account names no Secret).
const (
	PluginServiceAccount = pluginconfig.ServiceAccountName
	PluginTokenSecret    = PluginServiceAccount + TokenSuffix
	PluginRoleBinding    = PluginServiceAccount
	// AgentRoleBinding grants the workflow's account what Argo's agent
	// container needs (it runs as that account).
	AgentRoleBinding = pluginconfig.AgentClusterRole
	PodDefaultName   = pluginconfig.PluginName
	// TokenSuffix is the token Secret name Argo falls back to for an account
	// without secrets[0] or a token-name annotation: "<account>" + suffix.
	TokenSuffix    = ".service-account-token"
	saNameAnnot    = "kubernetes.io/service-account.name"
	agentLabel     = "workflows.argoproj.io/component"
	apiTokenVolume = "kfp-api-token"
	apiTokenDir    = "/var/run/secrets/kubeflow/pipelines"
	apiTokenEnv    = "KF_PIPELINES_SA_TOKEN_PATH"
	apiAudience    = "pipelines.kubeflow.org"
	apiTokenExpiry = 7200
)

// pluginChildren are what the plugin needs in every namespace that runs
// workflows.
func pluginChildren(ns string, s Settings, md pluginconfig.PodMetadata) []any {
	children := []any{
		pluginServiceAccount(ns),
		tokenSecret(ns, PluginServiceAccount),
		pluginRoleBinding(ns, s),
		agentRoleBinding(ns, s),
		tokenSecret(ns, s.WorkflowSA),
	}
	if pd := podDefault(ns, s, md); pd != nil {
		children = append(children, pd)
	}
	return children
}

func pluginServiceAccount(ns string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		// No secrets[] entry: Argo finds the token Secret by its name, and
		// Kubernetes 1.34 treats a referenced Secret as a legacy
		// auto-generated token (a warning on every use, and eligible for
		// the unused-token cleaner).
		ObjectMeta: metav1.ObjectMeta{Name: PluginServiceAccount, Namespace: ns},
	}
}

// tokenSecret asks Kubernetes' token controller for a long-lived token of
// account (Argo mounts such Secrets; it does not use projected tokens for
// the agent pod).
func tokenSecret(ns, account string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: account + TokenSuffix, Namespace: ns,
			Annotations: map[string]string{saNameAnnot: account},
		},
		Type: corev1.SecretTypeServiceAccountToken,
	}
}

// pluginRoleBinding grants the plugin's ClusterRole within this namespace
// only: the driver of one profile cannot touch another's objects.
func pluginRoleBinding(ns string, s Settings) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: PluginRoleBinding, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: s.ClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: PluginServiceAccount, Namespace: ns}},
	}
}

// agentRoleBinding lets the workflow's account (the agent pod's) watch the
// namespace's WorkflowTaskSets and report results, which Kubeflow's
// kubeflow-edit aggregation does not grant: without it the agent's main
// container crash-loops and no driver step ever runs.
func agentRoleBinding(ns string, s Settings) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: AgentRoleBinding, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: pluginconfig.AgentClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: s.WorkflowSA, Namespace: ns}},
	}
}

// podDefault applies the admin's driver pod metadata to Argo's agent pods
// when they are created: Argo copies nothing from the plugin ConfigMap onto
// pods, and only Kubeflow's admission webhook sees the pod early enough for
// e.g. Istio injection. Nil when there is nothing to apply.
func podDefault(ns string, s Settings, md pluginconfig.PodMetadata) Object {
	if len(md.Labels) == 0 && len(md.Annotations) == 0 && !s.APIToken {
		return nil
	}
	spec := map[string]any{
		"desc":     "Kubeflow Pipelines driver plugin: the admin's driver pod metadata on Argo agent pods",
		"selector": map[string]any{"matchLabels": map[string]any{agentLabel: "agent"}},
	}
	if len(md.Labels) > 0 {
		spec["labels"] = stringMap(md.Labels)
	}
	if len(md.Annotations) > 0 {
		spec["annotations"] = stringMap(md.Annotations)
	}
	if s.APIToken {
		addAPIToken(spec)
	}
	return Object{
		"apiVersion": "kubeflow.org/v1alpha1",
		"kind":       "PodDefault",
		"metadata":   map[string]any{"name": PodDefaultName, "namespace": ns},
		"spec":       spec,
	}
}

// addAPIToken mounts a token of the pod's account with KFP's audience, where
// the KFP SDK looks for it, so the driver can call the KFP API as the
// workflow's account.
func addAPIToken(spec map[string]any) {
	spec["volumes"] = []any{map[string]any{
		"name": apiTokenVolume,
		"projected": map[string]any{"sources": []any{map[string]any{
			"serviceAccountToken": map[string]any{"audience": apiAudience, "expirationSeconds": int64(apiTokenExpiry), "path": "token"},
		}}},
	}}
	spec["volumeMounts"] = []any{map[string]any{"name": apiTokenVolume, "mountPath": apiTokenDir, "readOnly": true}}
	spec["env"] = []any{map[string]any{"name": apiTokenEnv, "value": apiTokenDir + "/token"}}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
