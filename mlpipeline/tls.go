package mlpipeline

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// transportCredentials is plaintext unless opts.TLS is set, as in KFP: the
// in-cluster ml-pipeline service is plaintext by default.
func transportCredentials(opts Options) (credentials.TransportCredentials, error) {
	if !opts.TLS {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CACertPath != "" {
		roots, err := rootsWithCA(opts.CACertPath)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = roots
	}
	return credentials.NewTLS(cfg), nil
}

// rootsWithCA adds the bundle to the system roots rather than replacing
// them, so a server certificate from a public CA still verifies.
func rootsWithCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", path)
	}
	return roots, nil
}
