package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driverlog"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// testNamespaceKeysIsolated: the profile controller issued each profile
// namespace its own key through SeaweedFS's IAM API (sync.py's
// per-namespace path); Argo's wait container archived the run's step log
// with that key under the namespace's prefix; the key reads the log back and
// another profile namespace's key is refused.
func testNamespaceKeysIsolated(t *testing.T, s *Stack) {
	ns, other := "objectstore-team-a", "objectstore-team-b"
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	if err := s.PrepareNamespace(ctx, other); err != nil {
		t.Fatal(err)
	}
	res := runCase(t, s, ns, tcase{file: "hello_world.yaml", checks: []check{ranUserCode("echo")}})
	own, err := s.ArtifactKey(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := s.ArtifactKey(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "private-artifacts/" + ns + "/" + res.Workflow.Name + "/"
	logs, err := s.ObjectsUnder(ctx, own, prefix)
	if err != nil || len(logs) == 0 {
		t.Fatalf("archived logs under %s listed with %s's key: %v, %v; want the echo step's", prefix, ns, logs, err)
	}
	if _, err := s.ObjectsUnder(ctx, theirs, prefix); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Errorf("%s listed with %s's key: %v, want AccessDenied", prefix, other, err)
	}
	if own.AccessKey == theirs.AccessKey || own.AccessKey == s.objects.server.AdminAccessKey {
		t.Fatalf("namespace keys not distinct: %s, %s (admin %s)", own, theirs, s.objects.server.AdminAccessKey)
	}
	body, err := s.ReadObject(ctx, own, logs[0])
	if err != nil || !strings.Contains(body, "hello") {
		t.Errorf("%s read with %s's key: %q, %v; want the echo step's log", logs[0], ns, body, err)
	}
	if _, err := s.ReadObject(ctx, theirs, logs[0]); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Errorf("%s read with %s's key: %v, want AccessDenied", logs[0], other, err)
	}
	t.Logf("%s's step log %s: readable with its key, refused to %s's", ns, logs[0], other)

	// The driver log the plugin sidecar kept for the echo step, at the URI
	// recorded on its execution (KFP's UI reads driver_logs_uri), after the
	// agent pod is gone; written after the reply, so polled.
	echo := res.Of("echo")
	if len(echo) != 1 {
		t.Fatalf("echo launches: %d", len(echo))
	}
	uri := echo[0].Execution.String(mlmd.PropDriverLogsURI)
	_, key, ok := driverlog.ParseURI(uri)
	if !ok || !strings.HasPrefix(key, "private-artifacts/"+ns+"/") {
		t.Fatalf("driver_logs_uri %q: want a minio:// URI under the namespace's prefix", uri)
	}
	var driverLog string
	err = poll(ctx, "driver log "+uri, func() (bool, error) {
		driverLog, err = s.ReadObject(ctx, own, key)
		return err == nil, err
	})
	if err != nil || !strings.Contains(driverLog, "decision: echo: execution") {
		t.Fatalf("driver log at %s: %q, %v", uri, driverLog, err)
	}
	if _, err := s.ReadObject(ctx, theirs, key); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Errorf("driver log read with %s's key: %v, want AccessDenied", other, err)
	}
	t.Logf("driver log %s:\n%s", uri, driverLog)
}
