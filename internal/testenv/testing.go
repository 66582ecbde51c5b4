package testenv

import (
	"context"
	"testing"
	"time"
)

// StartTimeout bounds StartCluster's start-up (processes + CRDs). Generous
// because parallel test packages share two cores.
const StartTimeout = 3 * time.Minute

// StartCluster starts a cluster with the default CRDs for one test and stops
// it in t.Cleanup. Missing tools skip the test (fail under CI=true or
// KFP_PLUGIN_REQUIRE_TOOLS=1). When the test fails, the tail of every
// process log is printed.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return StartClusterWith(t, Options{})
}

// StartClusterWith is StartCluster with options.
func StartClusterWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.ToolsDir == "" {
		opts.ToolsDir = RequireTools(t, Etcd, KubeAPIServer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err) // includes the log tails
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv process logs:\n%s", c.LogTails(40))
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}
