package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

// Accounts workflows run as: KFP standalone's in the KFP namespace, a
// Kubeflow profile's elsewhere (KFP's API server sets it on every run it
// creates in a profile namespace).
const (
	StandaloneSA = "pipeline-runner"
	ProfileSA    = profile.DefaultWorkflowSA
)

// WorkflowSA is the account workflows in ns run as.
func WorkflowSA(ns string) string {
	if ns == kfpNamespace {
		return StandaloneSA
	}
	return ProfileSA
}

// PipelineRoot is the pipeline root the namespace's kfp-launcher ConfigMap
// sets (the profile controller's default; the standalone stand-in's for the
// KFP namespace).
func PipelineRoot(ns string) string {
	if ns == kfpNamespace {
		return "minio://mlpipeline/v2/artifacts"
	}
	return "minio://mlpipeline/private-artifacts/" + ns + "/v2/artifacts"
}

// PrepareNamespace makes ns a Kubeflow profile namespace with KFP enabled,
// set up only by what an install provides: the account Kubeflow's profile
// controller creates (default-editor, bound to the kubeflow-edit stand-in),
// then every child our profile controller's hook emits for it, applied as
// metacontroller applies them. The KFP namespace itself is set up by
// installKFP (the standalone overlay).
func (s *Stack) PrepareNamespace(ctx context.Context, ns string) error {
	return s.prepareNamespace(ctx, ns, nil)
}

// PrepareOptedOutNamespace is PrepareNamespace for a namespace that opts
// out of the admission webhook (WebhookOptOutLabel).
func (s *Stack) PrepareOptedOutNamespace(ctx context.Context, ns string) error {
	return s.prepareNamespace(ctx, ns, map[string]string{WebhookOptOutLabel: "disabled"})
}

// WebhookOptOutLabel on a namespace keeps the admission webhook out of it
// (the manifests' namespace selectors).
const WebhookOptOutLabel = "kfp-driver-plugin.github.io/webhook"

func (s *Stack) prepareNamespace(ctx context.Context, ns string, labels map[string]string) error {
	if ns == kfpNamespace {
		return nil
	}
	c := s.Cluster.Client
	all := map[string]string{profile.EnabledLabel: "true"}
	maps.Copy(all, labels)
	created, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: all}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return checkLabels(ctx, s, ns, labels)
	}
	if err != nil {
		return err
	}
	if err := createProfileAccount(ctx, s, ns); err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	key, err := s.profileKeys.For(ctx, ns)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	children, err := profile.Desired(ns, s.profileSettings, pluginconfig.PodMetadata{}, profile.ArtifactSecretFor(ns, key))
	if err != nil {
		return err
	}
	for _, child := range children {
		if err := s.applyChild(ctx, created, child); err != nil {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	s.profileKeys.Stored(ns)
	return s.waitTokens(ctx, ns, pluginconfig.ServiceAccountName, ProfileSA)
}

// checkLabels fails when an existing namespace lacks labels it was to be
// prepared with: a case must not silently run under another setting.
func checkLabels(ctx context.Context, s *Stack, ns string, labels map[string]string) error {
	got, err := s.Cluster.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for k, v := range labels {
		if got.Labels[k] != v {
			return fmt.Errorf("namespace %s exists with label %s=%q, want %q", ns, k, got.Labels[k], v)
		}
	}
	return nil
}

func createProfileAccount(ctx context.Context, s *Stack, ns string) error {
	c := s.Cluster.Client
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: ProfileSA}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "namespaceAdmin", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubeflow-edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ProfileSA, Namespace: ns}},
	}
	_, err := c.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
	return err
}

// applyChild does what metacontroller does with a desired attachment:
// owned by the namespace, server-side applied with strict validation.
func (s *Stack) applyChild(ctx context.Context, parent *corev1.Namespace, child profile.Object) error {
	u := (&unstructured.Unstructured{Object: child}).DeepCopy()
	yes := true
	u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Namespace", Name: parent.Name,
		UID: parent.UID, Controller: &yes, BlockOwnerDeletion: &yes}})
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	if err != nil {
		return err
	}
	m, err := s.mapper.RESTMapping(gv.WithKind(u.GetKind()).GroupKind(), gv.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", u.GetAPIVersion(), u.GetKind(), err)
	}
	body, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = s.Cluster.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(),
		types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "metacontroller", Force: &force, FieldValidation: "Strict"})
	if err != nil {
		return fmt.Errorf("apply %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// waitTokens waits until the token controller has filled the token
// Secrets Argo mounts into the agent pod.
func (s *Stack) waitTokens(ctx context.Context, ns string, accounts ...string) error {
	for _, a := range accounts {
		name := a + profile.TokenSuffix
		err := poll(ctx, "token Secret "+ns+"/"+name, func() (bool, error) {
			sec, err := s.Cluster.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return len(sec.Data["token"]) > 0, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) newMapper() error {
	dc := s.Cluster.Client.Discovery()
	if dc == nil {
		return errors.New("no discovery client")
	}
	s.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return nil
}
