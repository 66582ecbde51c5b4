package realnode_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/realnode"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/ociimage"
)

// TestNodeRunsPodsAndLeavesNothing runs a real pod that resolves the
// kubernetes Service through the node's DNS, reaches the apiserver through
// the Service address and writes to a mounted Secret-backed env, then tears
// the node down and checks that nothing is left.
func TestNodeRunsPodsAndLeavesNothing(t *testing.T) {
	tools := testenv.RequireTools(t, testenv.Etcd, testenv.KubeAPIServer, testenv.Kubelet,
		testenv.ControllerManager, testenv.Scheduler)
	c := testenv.StartClusterWith(t, testenv.Options{ToolsDir: tools, ForNode: true, SkipDefaultCRDs: true})
	// Start bounds itself and may first wait for another package's node
	// (the machine lock), so the test's own deadline starts after it.
	node, err := realnode.Start(context.Background(), realnode.Options{Cluster: c, Out: testWriter{t}})
	if errors.Is(err, realnode.ErrHostUnsuitable) && !testenv.ToolsRequired() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = node.Stop()
		}
	})
	busybox, err := ociimage.Busybox("example.test/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.Build(busybox)
	if err != nil {
		t.Fatal(err)
	}
	node.Registry.SetFallback(img)
	ctx, cancel := context.WithTimeout(context.Background(), realnode.StartTimeout)
	defer cancel()

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: "example.test/some/user-image:latest",
				Command: []string{"sh", "-c", `set -e
nslookup kubernetes.default.svc.cluster.local ` + realnode.Gateway + ` | grep -q ` + realnode.ServiceIP + `
nc -w 5 $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT </dev/null
test -s /var/run/secrets/kubernetes.io/serviceaccount/token
echo probe-ok`},
			}},
		},
	}
	if _, err := c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = testenv.PollUntil(ctx, "probe pod finished", nil, func(ctx context.Context) (bool, error) {
		p, err := c.Client.CoreV1().Pods("default").Get(ctx, "probe", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, node.LogTails(30))
	}
	logs, err := c.Client.CoreV1().Pods("default").GetLogs("probe", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("logs through the apiserver and kubelet: %v", err)
	}
	p, _ := c.Client.CoreV1().Pods("default").Get(ctx, "probe", metav1.GetOptions{})
	if p.Status.Phase != corev1.PodSucceeded || !strings.Contains(string(logs), "probe-ok") {
		st, _ := json.MarshalIndent(p.Status, "", " ")
		t.Fatalf("probe pod %s, logs:\n%s\nstatus: %s\n%s", p.Status.Phase, logs, st, node.LogTails(20))
	}

	stopped = true
	if err := node.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := node.Leftovers(); err != nil {
		t.Fatalf("after stop: %v", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
