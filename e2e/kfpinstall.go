package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/util/retry"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/standin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/realnode"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/webhook"
)

// installKFP sets up the KFP namespace as an admin following the README
// would, on top of a stand-in for KFP's own install: our standalone
// overlay applied with the real kubectl (plugin ConfigMap, ClusterRoles,
// the plugin's account and token, the agent binding), KFP's
// pipeline-runner stand-in, and Services for MLMD, ml-pipeline and the
// harness whose endpoints are the test servers on the node bridge.
func (s *Stack) installKFP(ctx context.Context) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	if err := s.Cluster.EnsureNamespace(ctx, kfpNamespace); err != nil {
		return err
	}
	// KFP's own install first: the token controller deletes a token Secret
	// (the overlay's pipeline-runner one) whose account does not exist yet.
	for _, args := range [][]string{
		{"apply", "-f", filepath.Join(root, "e2e", "testdata", "kfp-standalone.yaml")},
		{"apply", "-k", filepath.Join(root, "manifests", "overlays", "standalone")},
		{"apply", "-f", filepath.Join(root, "e2e", "testdata", "kubeflow-profile.yaml")},
	} {
		if _, err := s.Cluster.Kubectl(ctx, args...); err != nil {
			return err
		}
	}
	if s.Native {
		// What an admin trying the native line does: the webhook's flag.
		if _, err := s.Cluster.Kubectl(ctx, "patch", "deployment", webhookDeployment, "-n", kfpNamespace, "--type", "json", "-p",
			`[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--convert-native-line"}]`); err != nil {
			return err
		}
	}
	if err := s.waitTokens(ctx, kfpNamespace, pluginconfig.ServiceAccountName, StandaloneSA); err != nil {
		return err
	}
	if err := s.selectProfileNamespaces(ctx, root); err != nil {
		return err
	}
	if s.Native {
		// No pod of the old template may answer admissions any more.
		if _, err := s.Cluster.Kubectl(ctx, "rollout", "status", "deployment/"+webhookDeployment, "-n", kfpNamespace, "--timeout=5m"); err != nil {
			return err
		}
	}
	if err := s.waitWebhook(ctx); err != nil {
		return err
	}
	harnessPort, _ := strconv.Atoi(standin.HarnessPort)
	for name, port := range map[string]int{mlmdService: mlmdPort, mlPipelineService: mlPipelinePort,
		standin.HarnessService: harnessPort, objectStoreService: objectStorePort, minioService: objectStorePort} {
		if err := s.hostService(ctx, kfpNamespace, name, port); err != nil {
			return err
		}
	}
	return nil
}

// hostService creates Service name whose only endpoint is the host's
// bridge address: the node's DNS resolves the name to it.
func (s *Stack) hostService(ctx context.Context, ns, name string, port int) error {
	c := s.Cluster.Client
	p := int32(port)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "grpc", Port: p}}}}
	if _, err := c.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("service %s: %w", name, err)
	}
	ready, proto := true, corev1.ProtocolTCP
	portName := "grpc"
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{realnode.Gateway}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &p, Protocol: &proto}},
	}
	if _, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("endpoints of %s: %w", name, err)
	}
	return nil
}

// webhookConfigName is the manifests' MutatingWebhookConfiguration.
const webhookConfigName = "admission-kfp-driver-plugin"

// webhookDeployment is the standalone install's admission webhook.
const webhookDeployment = "kfp-driver-plugin-webhook"

// selectProfileNamespaces makes the cluster a standalone and a multi-user
// install at once: the webhook gets the multi-user overlay's namespace
// selector (profile namespaces labelled enabled), and the KFP namespace the
// label, so runs in both reach it as they would in either install.
func (s *Stack) selectProfileNamespaces(ctx context.Context, root string) error {
	out, err := s.Cluster.Kubectl(ctx, "kustomize", filepath.Join(root, "manifests", "overlays", "multi-user"))
	if err != nil {
		return err
	}
	selectors := map[string]*metav1.LabelSelector{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		var cfg admissionregistrationv1.MutatingWebhookConfiguration
		if err := dec.Decode(&cfg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("multi-user overlay: %w", err)
		}
		if cfg.Kind != "MutatingWebhookConfiguration" {
			continue
		}
		for _, w := range cfg.Webhooks {
			selectors[w.Name] = w.NamespaceSelector
		}
	}
	c := s.Cluster.Client
	cfgs := c.AdmissionregistrationV1().MutatingWebhookConfigurations()
	// The webhook itself updates the configuration's caBundle meanwhile.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := cfgs.Get(ctx, webhookConfigName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for i, w := range live.Webhooks {
			sel, ok := selectors[w.Name]
			if !ok {
				return fmt.Errorf("the multi-user overlay has no webhook %s", w.Name)
			}
			live.Webhooks[i].NamespaceSelector = sel
		}
		_, err = cfgs.Update(ctx, live, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("webhook namespace selector: %w", err)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, profile.EnabledLabel)
	_, err = c.CoreV1().Namespaces().Patch(ctx, kfpNamespace, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// waitWebhook waits until the admission webhook converts workflows: a
// server-side dry-run create of a KFP workflow in the KFP namespace comes
// back with the webhook's record (its pods are up, the apiserver trusts its
// CA). Until then the webhook's Ignore policy would let runs through
// unconverted. On a native stack the workflow is a native one: only the
// webhook's pods with --convert-native-line convert it.
func (s *Stack) waitWebhook(ctx context.Context) error {
	wf, err := Compiled("hello_world.yaml")
	if s.Native {
		wf, err = NativeCompiled("add_numbers.yaml")
	}
	if err != nil {
		return err
	}
	wf.Namespace = kfpNamespace
	wfs := s.Workflows.ArgoprojV1alpha1().Workflows(kfpNamespace)
	return poll(ctx, "the admission webhook to convert workflows", func() (bool, error) {
		out, err := wfs.Create(ctx, wf, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return false, err
		}
		return out.Annotations[webhook.ConvertedAnnotation] != "", nil
	})
}
