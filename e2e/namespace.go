package e2e

import (
	"context"
	"fmt"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Names in every workflow namespace.
const (
	// WorkflowSA is the account KFP's compiled workflows run as.
	WorkflowSA = "pipeline-runner"
	// PipelineRootPrefix is the kfp-launcher ConfigMap's defaultPipelineRoot
	// base; each namespace gets its own root under it, which shows up in
	// every output artifact URI the driver provisions.
	PipelineRootPrefix = "minio://e2e-artifacts"
	tokenSuffix        = ".service-account-token"
	saNameAnnotation   = "kubernetes.io/service-account.name"
	// tokenLifetime outlives any test run; the apiserver caps nothing here.
	tokenLifetime = 24 * 60 * 60
)

// PipelineRoot is the pipeline root the namespace's kfp-launcher ConfigMap
// sets.
func PipelineRoot(ns string) string { return PipelineRootPrefix + "/" + ns }

// PrepareNamespace creates ns with what our manifests (and the multi-user
// profile controller) give a workflow namespace: the plugin's
// ServiceAccount and token Secret (Argo looks them up in the workflow's
// namespace), a RoleBinding to the plugin's ClusterRole, the workflow's
// account and token Secret, and a kfp-launcher ConfigMap. No token
// controller runs, so the harness fills the plugin's token Secret itself
// with a TokenRequest token: the played sidecar then talks to the
// apiserver as the plugin's account, under our real RBAC.
func (s *Stack) PrepareNamespace(ctx context.Context, ns string) error {
	c := s.Cluster.Client
	if err := s.Cluster.EnsureNamespace(ctx, ns); err != nil {
		return err
	}
	plugin := pluginconfig.ServiceAccountName
	objs := []func() error{
		func() error { return createSA(ctx, c, ns, WorkflowSA) },
		func() error { return createTokenSecret(ctx, c, ns, WorkflowSA, "") },
		func() error { return createSA(ctx, c, ns, plugin) },
		func() error { return s.pluginToken(ctx, ns) },
		func() error { return createRoleBinding(ctx, c, ns) },
		func() error { return createLauncherConfig(ctx, c, ns) },
	}
	for _, create := range objs {
		if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	return nil
}

func createSA(ctx context.Context, c kubernetes.Interface, ns, name string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Secrets: []corev1.ObjectReference{{Name: name + tokenSuffix}}}
	_, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	return err
}

func createTokenSecret(ctx context.Context, c kubernetes.Interface, ns, account, token string) error {
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: account + tokenSuffix, Namespace: ns,
			Annotations: map[string]string{saNameAnnotation: account}},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	if token != "" {
		sec.Data = map[string][]byte{"token": []byte(token), "namespace": []byte(ns)}
	}
	_, err := c.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
	return err
}

// pluginToken plays the token controller for the plugin's account.
func (s *Stack) pluginToken(ctx context.Context, ns string) error {
	account := pluginconfig.ServiceAccountName
	exp := int64(tokenLifetime)
	tr, err := s.Cluster.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, account,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token for %s: %w", account, err)
	}
	return createTokenSecret(ctx, s.Cluster.Client, ns, account, tr.Status.Token)
}

func createRoleBinding(ctx context.Context, c kubernetes.Interface, ns string) error {
	name := pluginconfig.ServiceAccountName
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
	}
	_, err := c.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
	return err
}

func createLauncherConfig(ctx context.Context, c kubernetes.Interface, ns string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kfp-launcher", Namespace: ns},
		Data: map[string]string{"defaultPipelineRoot": PipelineRoot(ns)}}
	_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	return err
}
