package e2e

import (
	"context"
	"reflect"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/webhook"
)

// testWebhookOptOut: a workflow that opts out is stored exactly as created
// and Argo runs KFP's stock driver as a pod (the plugin is not involved).
func testWebhookOptOut(t *testing.T, s *Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	testStoredUnconverted(ctx, t, s, map[string]string{webhook.OptOutAnnotation: "false"})
}

// testWebhookDown: with the webhook scaled to zero, its failure policy
// (Ignore) lets the workflow be created, unchanged: the stock driver pods
// run. Then the webhook comes back.
func testWebhookDown(t *testing.T, s *Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	if err := s.scaleWebhook(ctx, 0); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.scaleWebhook(ctx, 2); err != nil {
			t.Error(err)
		}
	}()
	testStoredUnconverted(ctx, t, s, nil)
}

// testStoredUnconverted creates hello_world in the KFP namespace as KFP
// does (plus annotations), expects it stored unconverted and run to the end
// by stock driver pods: KFP's driver image name is served here by our image
// (the real one cannot be had), whose `driver` is the one-shot mode.
func testStoredUnconverted(ctx context.Context, t *testing.T, s *Stack, annotations map[string]string) {
	wf, err := Compiled("hello_world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wf.Annotations = annotations
	created, err := s.Submit(ctx, kfpNamespace, wf)
	if err != nil {
		t.Fatal(err)
	}
	if created.Annotations[webhook.ConvertedAnnotation] != "" || !reflect.DeepEqual(created.Spec.Templates, wf.Spec.Templates) {
		t.Fatalf("workflow was converted (annotations %v)", created.Annotations)
	}
	err = poll(ctx, "the stock driver pod of "+created.Name, func() (bool, error) {
		pods, err := s.Cluster.Client.CoreV1().Pods(kfpNamespace).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + created.Name})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if stockDriver(p) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.Wait(ctx, kfpNamespace, created.Name)
	if err != nil {
		_, _ = s.ArgoCLI(ctx, "stop", created.Name, "-n", kfpNamespace)
		t.Fatal(err)
	}
	if done.Status.Phase != wfv1.WorkflowSucceeded {
		out, _ := s.ArgoCLI(ctx, "get", done.Name, "-n", kfpNamespace)
		t.Fatalf("stock run %s: %s, want Succeeded\n%s%s\n%s", done.Name, done.Status.Phase, FailedNodes(done),
			s.FailedPodLogs(ctx, done), stepTree(out))
	}
}

func stockDriver(p corev1.Pod) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == agentMain && strings.Contains(c.Image, "kfp-driver") && slicesContain(append(c.Command, c.Args...), "driver") {
			return true
		}
	}
	return false
}

func slicesContain(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// scaleWebhook sets the webhook's replicas and waits until its Service has
// exactly that many ready endpoints.
func (s *Stack) scaleWebhook(ctx context.Context, replicas int32) error {
	deps := s.Cluster.Client.AppsV1().Deployments(kfpNamespace)
	scale, err := deps.GetScale(ctx, webhookDeployment, metav1.GetOptions{})
	if err != nil {
		return err
	}
	scale.Spec.Replicas = replicas
	if _, err := deps.UpdateScale(ctx, webhookDeployment, scale, metav1.UpdateOptions{}); err != nil {
		return err
	}
	return poll(ctx, "webhook endpoints", func() (bool, error) {
		d, err := deps.Get(ctx, webhookDeployment, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if replicas == 0 {
			pods, err := s.Cluster.Client.CoreV1().Pods(kfpNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + webhookDeployment})
			return err == nil && len(pods.Items) == 0, err
		}
		return d.Status.ReadyReplicas == replicas, nil
	})
}
