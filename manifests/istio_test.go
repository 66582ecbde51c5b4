package manifests

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

// seed000 is the Istio STRICT mTLS driver configuration of KFP's driver pod
// configuration guide, as V2_DRIVER_CONFIG.
const seed000 = `{
  "labels": {"sidecar.istio.io/inject": "true", "app.kubernetes.io/component": "kfp-driver"},
  "annotations": {
    "proxy.istio.io/config": "{\"holdApplicationUntilProxyStarts\": true}",
    "traffic.sidecar.istio.io/includeInboundPorts": "*",
    "traffic.sidecar.istio.io/excludeOutboundPorts": "15090,15021"
  }
}`

func TestIstioOverlayMatchesRenderer(t *testing.T) {
	objs, _ := kustomize(t, "overlays/istio-strict-mtls")
	s, _, err := pluginconfig.Load(pluginconfig.Sources{Lookup: func(k string) (string, bool) {
		return seed000, k == pluginconfig.EnvDriverConfig
	}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.ConfigMap("")
	got := get(t, objs, "ConfigMap", pluginconfig.ConfigMapName)
	for _, key := range []string{pluginconfig.PodLabelsAnnotation, pluginconfig.PodAnnotationsAnnotation} {
		if got.GetAnnotations()[key] != want.Annotations[key] {
			t.Errorf("%s:\n got  %s\n want %s (pluginconfig's rendering of seed 000)", key, got.GetAnnotations()[key], want.Annotations[key])
		}
	}
	if data, _ := json.Marshal(got.Object["data"]); !strings.Contains(string(data), "sidecar.container") {
		t.Error("the patch lost the plugin's data")
	}
}

// The overlay's metadata reaches the hook, and the hook puts it on agent
// pods: Istio injection on, the application held until the proxy is ready.
func TestIstioPodDefault(t *testing.T) {
	objs, _ := kustomize(t, "overlays/istio-strict-mtls")
	md := podMetadata(t, objs)
	s, err := profile.LoadSettings([]string{"MINIO_ACCESS_KEY=x", "MINIO_SECRET_KEY=y"})
	if err != nil {
		t.Fatal(err)
	}
	ns := profile.Object{"metadata": map[string]any{"name": "team-a", "labels": map[string]any{profile.EnabledLabel: "true"}}}
	keys, err := s.Issuer()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := profile.Sync(context.Background(), &profile.Request{Object: ns}, s, md, keys)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	for _, a := range resp.Attachments {
		if a["kind"] == "PodDefault" {
			spec = a["spec"].(map[string]any)
		}
	}
	if spec == nil {
		t.Fatal("no PodDefault")
	}
	if spec["labels"].(map[string]any)["sidecar.istio.io/inject"] != "true" {
		t.Errorf("labels %v", spec["labels"])
	}
	if !strings.Contains(spec["annotations"].(map[string]any)["proxy.istio.io/config"].(string), `"holdApplicationUntilProxyStarts": true`) {
		t.Errorf("annotations %v", spec["annotations"])
	}

	pa := get(t, objs, "PeerAuthentication", "default")
	if pa.GetNamespace() != "kubeflow" || str(t, pa, "spec", "mtls", "mode") != "STRICT" {
		t.Errorf("PeerAuthentication %s/%s mode %v", pa.GetNamespace(), pa.GetName(), pa.Object["spec"])
	}
	dep := get(t, objs, "Deployment", controllerName)
	if dep.Object["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any)["sidecar.istio.io/inject"] != "false" {
		t.Error("the controller must run without a sidecar: metacontroller calls it in plain HTTP")
	}
}
