package mlpipeline

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

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
	if opts.CAPEM != "" {
		roots, err := rootsWithCA(opts.CAPEM)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = roots
	}
	return credentials.NewTLS(cfg), nil
}

// rootsWithCA adds the bundle to the system roots rather than replacing
// them, so a server certificate from a public CA still verifies.
func rootsWithCA(pem string) (*x509.CertPool, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM([]byte(pem)) {
		return nil, errors.New("the ml-pipeline CA bundle holds no PEM certificate")
	}
	return roots, nil
}
