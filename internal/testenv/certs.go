package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the files kube-apiserver needs, all generated per cluster.
type pki struct {
	dir        string
	CAFile     string // self-signed CA, also the --client-ca-file
	CAPEM      []byte
	CertFile   string // serving cert for 127.0.0.1, signed by the CA
	KeyFile    string
	SAKeyFile  string // service-account token signing key (private; the apiserver derives the public half)
	TokenFile  string // static token file
	AdminToken string

	caKey  *ecdsa.PrivateKey // kept to issue client certificates (IssueClientCert)
	caCert *x509.Certificate
}

func newPKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki dir: %w", err)
	}
	p := &pki{
		dir:       dir,
		CAFile:    filepath.Join(dir, "ca.crt"),
		CertFile:  filepath.Join(dir, "apiserver.crt"),
		KeyFile:   filepath.Join(dir, "apiserver.key"),
		SAKeyFile: filepath.Join(dir, "sa.key"),
		TokenFile: filepath.Join(dir, "tokens.csv"),
	}
	if err := p.generate(); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return p, nil
}

func (p *pki) generate() error {
	caKey, caCert, err := newCA()
	if err != nil {
		return err
	}
	p.caKey, p.caCert = caKey, caCert
	p.CAPEM = pemBlock("CERTIFICATE", caCert.Raw)
	if err := os.WriteFile(p.CAFile, p.CAPEM, 0o600); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	if err := writeServingCert(p.CertFile, p.KeyFile, caCert, caKey); err != nil {
		return err
	}
	if err := writeNewKey(p.SAKeyFile); err != nil {
		return err
	}
	return p.writeTokens()
}

func newCA() (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("CA key: %w", err)
	}
	tmpl := certTemplate("kfp-testenv-ca")
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("CA cert: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("CA cert: %w", err)
	}
	return key, cert, nil
}

func writeServingCert(certFile, keyFile string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("serving key: %w", err)
	}
	tmpl := certTemplate("kube-apiserver")
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 0, 0, 1)}
	tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local"}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("serving cert: %w", err)
	}
	if err := os.WriteFile(certFile, pemBlock("CERTIFICATE", der), 0o600); err != nil {
		return fmt.Errorf("write serving cert: %w", err)
	}
	return writeKey(keyFile, key)
}

// issueClientCert writes a client certificate for user cn in groups orgs,
// signed by the cluster CA (which the apiserver trusts as --client-ca-file).
func (p *pki) issueClientCert(certFile, keyFile, cn string, orgs ...string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("client key %s: %w", cn, err)
	}
	tmpl := certTemplate(cn)
	tmpl.Subject.Organization = orgs
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return fmt.Errorf("client cert %s: %w", cn, err)
	}
	if err := os.WriteFile(certFile, pemBlock("CERTIFICATE", der), 0o600); err != nil {
		return fmt.Errorf("write client cert %s: %w", cn, err)
	}
	return writeKey(keyFile, key)
}

func writeNewKey(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("key %s: %w", path, err)
	}
	return writeKey(path, key)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key %s: %w", path, err)
	}
	if err := os.WriteFile(path, pemBlock("EC PRIVATE KEY", der), 0o600); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	return nil
}

// writeTokens writes the static token file: one admin in system:masters, so
// that RBAC authorization lets the tests (and the Argo controller) do anything.
func (p *pki) writeTokens() error {
	p.AdminToken = rand.Text()
	line := fmt.Sprintf("%s,admin,admin-uid,\"system:masters\"\n", p.AdminToken)
	if err := os.WriteFile(p.TokenFile, []byte(line), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

func certTemplate(cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:     now.Add(7 * 24 * time.Hour),
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
