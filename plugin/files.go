package plugin

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
)

// Size limits of the files the sidecar reads. None is named by a template;
// the limits still hold so that a misconfigured path (a device, a huge file)
// fails with a message instead of exhausting memory.
const (
	MaxTokenFileBytes     = 64 << 10
	MaxNamespaceFileBytes = 4 << 10
	MaxCAFileBytes        = 1 << 20
)

// ReadSmallFile reads the file at path, failing when it holds more than
// limit bytes.
func ReadSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// ReadCAFile reads a PEM CA bundle, size-bounded, and fails when it holds
// no certificate.
func ReadCAFile(path string) (string, error) {
	pem, err := ReadSmallFile(path, MaxCAFileBytes)
	if err != nil {
		return "", err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return "", fmt.Errorf("%s holds no PEM certificate", path)
	}
	return string(pem), nil
}
