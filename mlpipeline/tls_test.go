package mlpipeline_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/mlpipelinetest"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// selfSigned returns a certificate for 127.0.0.1 and its PEM, which serves
// as the CA bundle.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ml-pipeline-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func listOnce(t *testing.T, opts mlpipeline.Options) error {
	t.Helper()
	var pool mlpipeline.Pool
	defer pool.Close()
	c, err := pool.Client(opts)
	if err != nil {
		return err
	}
	_, err = c.ListTasks(context.Background(), &apipb.ListTasksRequest{})
	return err
}

func TestTLS(t *testing.T) {
	cert, caPEM := selfSigned(t)
	srv := mlpipelinetest.StartTestTLS(t, cert)
	opts := mlpipeline.Options{Address: srv.Addr(), TLS: true, CAPEM: caPEM, Timeout: 5 * time.Second}
	if err := listOnce(t, opts); err != nil {
		t.Fatalf("TLS with CA bundle: %v", err)
	}
	opts.CAPEM = ""
	if err := listOnce(t, opts); status.Code(err) != codes.Unavailable {
		t.Errorf("unknown CA: err = %v, want Unavailable", err)
	}
	if err := listOnce(t, mlpipeline.Options{Address: srv.Addr(), Timeout: 5 * time.Second}); err == nil {
		t.Error("plaintext client reached a TLS server")
	}
}

func TestTLSBadCABundle(t *testing.T) {
	var pool mlpipeline.Pool
	if _, err := pool.Client(mlpipeline.Options{Address: "a:1", TLS: true, CAPEM: "not a certificate"}); err == nil {
		t.Error("CA bundle without certificates accepted")
	}
}
