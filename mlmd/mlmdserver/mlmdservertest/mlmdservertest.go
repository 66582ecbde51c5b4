// Package mlmdservertest starts the in-memory MLMD server for Go tests. It
// is separate from mlmdserver so that only test binaries link "testing".
package mlmdservertest

import (
	"testing"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd/mlmdserver"
)

// StartTest serves an empty store on a loopback port and stops it when the
// test ends. Use the returned Running's Addr to configure the code under
// test and its Server for fault injection and call counts.
func StartTest(t testing.TB) *mlmdserver.Running {
	t.Helper()
	r, err := mlmdserver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting MLMD test server: %v", err)
	}
	t.Cleanup(r.Stop)
	return r
}

// NewClient returns a client of r whose connection closes when the test
// ends.
func NewClient(t testing.TB, r *mlmdserver.Running) mlmd.MetadataStoreServiceClient {
	t.Helper()
	conn, err := r.Dial()
	if err != nil {
		t.Fatalf("dialing MLMD test server: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return mlmd.NewMetadataStoreServiceClient(conn)
}
