package webhook

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/convert/converttest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

// TestWorkflowsOnRealAPIServer registers the webhook with a real
// kube-apiserver through the manifests' MutatingWebhookConfiguration, with
// self-managed TLS (the API server trusts it only through the caBundle the
// webhook wrote), and the webhook running as the manifests' account under
// their RBAC. Then:
//   - every workflow of the compiled corpus, created as KFP creates it, is
//     stored converted exactly as `convert` converts it, records what was
//     done, and passes Argo's validation;
//   - a workflow that is not KFP's, one opted out, and one in a namespace
//     the selector leaves out are stored byte for byte as sent;
//   - with the webhook stopped a KFP workflow is still created, stored
//     unchanged, and passes Argo's validation (it runs with the stock
//     driver pods).
func TestWorkflowsOnRealAPIServer(t *testing.T) {
	c := testenv.StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	createNamespace(ctx, t, c, enabledNS, map[string]string{"pipelines.kubeflow.org/enabled": "true"})
	createNamespace(ctx, t, c, plainNS, nil)
	w := startLiveWebhook(ctx, t, c)
	corpus := loadCorpus(t)

	t.Run("corpus stored converted", func(t *testing.T) {
		for _, wf := range corpus {
			stored := createWorkflow(ctx, t, c, kfpWorkflow(t, wf.json, wf.name))
			want := decodeJSON(t, wf.json)
			res, err := convert.Object(want, convert.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := stored.GetAnnotations()[ConvertedAnnotation]; got != strings.Join(res.Names, ",") {
				t.Errorf("%s: %s = %q, want %q", wf.name, ConvertedAnnotation, got, strings.Join(res.Names, ","))
			}
			if !jsonEqual(t, stored.Object["spec"], want["spec"]) {
				t.Errorf("%s: stored spec differs from what convert makes of it", wf.name)
			}
			b, _ := stored.MarshalJSON()
			if err := converttest.ArgoValidate(b); err != nil {
				t.Errorf("%s: stored workflow fails Argo validation: %v", wf.name, err)
			}
		}
	})

	unchanged := func(t *testing.T, sent *unstructured.Unstructured) {
		t.Helper()
		stored := createWorkflow(ctx, t, c, sent)
		a, b := sentAndStored(t, sent, stored)
		if string(a) != string(b) {
			t.Errorf("stored workflow differs from the one sent:\nsent   %.300s\nstored %.300s", a, b)
		}
	}
	t.Run("not KFP: stored byte for byte", func(t *testing.T) {
		before := w.metric(ctx, t, `kfp_driver_plugin_webhook_admissions_total{kind="workflow",outcome="unchanged"}`)
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(plainWorkflow)); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(enabledNS)
		unchanged(t, u)
		if after := w.metric(ctx, t, `kfp_driver_plugin_webhook_admissions_total{kind="workflow",outcome="unchanged"}`); after != before+1 {
			t.Errorf("unchanged admissions %v -> %v: the webhook did not see the workflow", before, after)
		}
	})
	t.Run("opted out", func(t *testing.T) {
		u := kfpWorkflow(t, corpus[0].json, "opted-out")
		ann := u.GetAnnotations()
		ann[OptOutAnnotation] = "false"
		u.SetAnnotations(ann)
		unchanged(t, u)
	})
	t.Run("namespace not selected", func(t *testing.T) {
		before := w.metric(ctx, t, `kfp_driver_plugin_webhook_admission_duration_seconds_count{kind="workflow"}`)
		u := kfpWorkflow(t, corpus[0].json, "plain-namespace")
		u.SetNamespace(plainNS)
		unchanged(t, u)
		if after := w.metric(ctx, t, `kfp_driver_plugin_webhook_admission_duration_seconds_count{kind="workflow"}`); after != before {
			t.Errorf("the webhook was called for a namespace the selector leaves out")
		}
	})
	t.Run("second replica keeps the first trusted", func(t *testing.T) {
		// Each replica publishes its own CA; the bundle then holds both and
		// the API server still reaches the first replica.
		second := startReplica(ctx, t, c)
		err := testenv.PollUntil(ctx, "two CAs in the caBundle", nil, func(ctx context.Context) (bool, error) {
			n, err := w.bundleSize(ctx)
			return n == 2, err
		})
		if err != nil {
			t.Fatal(err)
		}
		second.stop(t)
		stored := createWorkflow(ctx, t, c, kfpWorkflow(t, corpus[1].json, "after-second-replica"))
		if stored.GetAnnotations()[ConvertedAnnotation] == "" {
			t.Error("not converted once a second replica had added its CA")
		}
	})
	t.Run("webhook stopped", func(t *testing.T) {
		w.stop(t)
		for _, wf := range corpus[:3] {
			sent := kfpWorkflow(t, wf.json, wf.name+"-stopped")
			stored := createWorkflow(ctx, t, c, sent)
			a, b := sentAndStored(t, sent, stored)
			if string(a) != string(b) {
				t.Errorf("%s: stored differs from sent with the webhook down", wf.name)
			}
			raw, _ := stored.MarshalJSON()
			if err := converttest.ArgoValidate(raw); err != nil {
				t.Errorf("%s: unconverted workflow fails Argo validation: %v", wf.name, err)
			}
		}
	})
}

func createWorkflow(ctx context.Context, t *testing.T, c *testenv.Cluster, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	out, err := c.Dynamic.Resource(workflowsGVR).Namespace(u.GetNamespace()).Create(ctx, u.DeepCopy(), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create workflow %s: %v", u.GetGenerateName()+u.GetName(), err)
	}
	stored, err := c.Dynamic.Resource(workflowsGVR).Namespace(u.GetNamespace()).Get(ctx, out.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// jsonEqual compares two JSON trees after a round trip (numbers as float64
// on both sides).
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	var x, y any
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	if json.Unmarshal(ab, &x) != nil || json.Unmarshal(bb, &y) != nil {
		t.Fatal("not JSON")
	}
	return reflect.DeepEqual(x, y)
}
