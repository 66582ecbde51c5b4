package main

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// TestRunTokens: --api-token picks the native line's token source; a
// sidecar missing what minting needs still starts, and its native calls
// fail saying what is missing.
func TestRunTokens(t *testing.T) {
	k, err := kube.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	const run = "0b6c6f1e-3f0c-4d6b-9a51-1f7f8f0e2a11"
	if src, err := runTokens(pluginconfig.APITokenNone, k, "team-a", "default-editor"); src != nil || err != nil {
		t.Fatalf("none: %v, %v", src != nil, err)
	}
	if _, err := runTokens("file", k, "team-a", "default-editor"); err == nil || !strings.Contains(err.Error(), "--api-token") {
		t.Fatalf("unknown mode: %v", err)
	}
	for _, c := range []struct {
		k                 kube.Interface
		ns, account, want string
	}{
		{nil, "team-a", "default-editor", "no Kubernetes API client"},
		{k, "team-a", "", "$" + pluginconfig.EnvServiceAccount},
		{k, "", "default-editor", "namespace"},
		{k, "team-a", "default-editor", "token request for service account team-a/default-editor"}, // mints: nothing listens
	} {
		src, err := runTokens(pluginconfig.APITokenRequest, c.k, c.ns, c.account)
		if err != nil || src == nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if _, err := src(context.Background(), run); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: token error %v, want it to name %q", c, err, c.want)
		}
	}
}
