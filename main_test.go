package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestBuildCommandsMatch keeps the Makefile's build line and the Dockerfile's
// build stage the same command: what we test is what ships.
func TestBuildCommandsMatch(t *testing.T) {
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mkLine := regexp.MustCompile(`(?m)^build:\n\t(.+)$`).FindSubmatch(mk)
	dfLine := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .+)$`).FindSubmatch(df)
	if mkLine == nil || dfLine == nil {
		t.Fatalf("build line not found (Makefile: %v, Dockerfile: %v)", mkLine != nil, dfLine != nil)
	}
	normalize := func(s []byte) string { return strings.ReplaceAll(string(s), "$(VERSION)", "${VERSION}") }
	if normalize(mkLine[1]) != normalize(dfLine[1]) {
		t.Fatalf("Makefile builds with\n  %s\nDockerfile with\n  %s", mkLine[1], dfLine[1])
	}
	if !bytes.Contains(df, []byte("USER 8737")) {
		t.Fatal("the image must run as uid 8737 (Argo's token file owner)")
	}
}

func TestConfigmapCommand(t *testing.T) {
	t.Setenv("DRIVER_POD_LABELS", `{"sidecar.istio.io/inject": "true", "pipelines.kubeflow.org/x": "y"}`)
	var out, errOut bytes.Buffer
	if err := configmap([]string{"--image", "example.com/p:1", "--namespace", "kubeflow"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Metadata struct {
			Name, Namespace string
			Annotations     map[string]string
		}
		Data map[string]string
	}
	if err := yaml.Unmarshal(out.Bytes(), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Metadata.Name != "ml-pipeline-driver-agent-executor-plugin" || cm.Metadata.Namespace != "kubeflow" {
		t.Fatalf("metadata: %+v", cm.Metadata)
	}
	if !strings.Contains(cm.Data["sidecar.container"], "image: example.com/p:1") {
		t.Fatalf("image flag not applied:\n%s", cm.Data["sidecar.container"])
	}
	if got := cm.Metadata.Annotations["pipelines.kubeflow.org/driver-pod-labels"]; got != `{"sidecar.istio.io/inject":"true"}` {
		t.Fatalf("pod labels annotation = %s", got)
	}
	if !strings.Contains(errOut.String(), `warning: dropping label "pipelines.kubeflow.org/x"`) {
		t.Fatalf("reserved key not reported: %q", errOut.String())
	}

	t.Setenv("DRIVER_RESOURCE_LIMITS_CPU", "nope")
	if err := configmap(nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "DRIVER_RESOURCE_LIMITS_CPU") {
		t.Fatalf("invalid settings must fail naming the variable, got %v", err)
	}
}
