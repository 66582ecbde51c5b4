package webhook

import (
	"context"
	"encoding/base64"
	"net"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

func TestServingNames(t *testing.T) {
	dns, ips := ServingNames("kfp-driver-plugin-webhook", "kubeflow", " 127.0.0.1, extra.example ,,")
	wantDNS := []string{"kfp-driver-plugin-webhook.kubeflow.svc", "kfp-driver-plugin-webhook.kubeflow.svc.cluster.local", "extra.example"}
	if !reflect.DeepEqual(dns, wantDNS) || len(ips) != 1 || !ips[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("names %v, ips %v", dns, ips)
	}
	if dns, ips := ServingNames("svc", "", ""); len(dns) != 0 || len(ips) != 0 {
		t.Errorf("without a namespace: %v %v", dns, ips)
	}
}

// TestSetBundles: every webhook of the configuration gets the CA; a second
// call with the same CA reports no change (no write to the API server).
func TestSetBundles(t *testing.T) {
	now := time.Now()
	ca, err := issue(now, time.Hour, []string{"x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &unstructured.Unstructured{Object: map[string]any{"webhooks": []any{
		map[string]any{"name": "a", "clientConfig": map[string]any{"url": "https://x"}},
		map[string]any{"name": "b", "clientConfig": map[string]any{"url": "https://x", "caBundle": "bm90IHBlbQ=="}},
	}}}
	changed, err := setBundles(cfg, ca.caPEM, now)
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	for _, raw := range webhooks {
		b64, _, _ := unstructured.NestedString(raw.(map[string]any), "clientConfig", "caBundle")
		pemBytes, _ := base64.StdEncoding.DecodeString(b64)
		if string(pemBytes) != string(ca.caPEM) {
			t.Errorf("webhook %v: caBundle %q", raw.(map[string]any)["name"], pemBytes)
		}
	}
	if changed, err := setBundles(cfg, ca.caPEM, now); err != nil || changed {
		t.Errorf("second call: changed %v, err %v", changed, err)
	}
	if _, err := setBundles(&unstructured.Unstructured{Object: map[string]any{"webhooks": []any{"x"}}}, ca.caPEM, now); err == nil {
		t.Error("a webhook that is not an object was accepted")
	}
}

func TestRunNeedsSettings(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no ConfigMap namespace":     {Addr: "127.0.0.1:0", RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"}, WebhookConfigName: "x", DNSNames: []string{"x"}},
		"self-managed without names": {Addr: "127.0.0.1:0", RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"}, ConfigNamespace: "kubeflow", WebhookConfigName: "x"},
		"missing certificate files":  {Addr: "127.0.0.1:0", RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"}, ConfigNamespace: "kubeflow", CertFile: "/nonexistent/tls.crt", KeyFile: "/nonexistent/tls.key"},
	} {
		if err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: Run started", name)
		}
	}
}
