package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
)

// FileCert serves a certificate from files (a mounted Secret, e.g. issued by
// cert-manager) and picks up a renewed one: the kubelet updates a mounted
// Secret in place, so the files are re-read every Interval. A pair that
// does not load keeps the previous one in service.
type FileCert struct {
	CertFile, KeyFile string
	Interval          time.Duration // default 10s

	cur     atomic.Pointer[tls.Certificate]
	certPEM []byte
	keyPEM  []byte
}

// LoadFileCert reads the pair once; an error here stops the start-up.
func LoadFileCert(certFile, keyFile string) (*FileCert, error) {
	f := &FileCert{CertFile: certFile, KeyFile: keyFile}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (f *FileCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.cur.Load(), nil
}

// Ready reports whether a certificate is loaded.
func (f *FileCert) Ready() bool { return f.cur.Load() != nil }

// Run re-reads the files until ctx is done.
func (f *FileCert) Run(ctx context.Context) {
	interval := f.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if changed, err := f.reload(); err != nil {
			glog.Warningf("webhook TLS: keeping the current certificate: %v", err)
		} else if changed {
			glog.Infof("webhook TLS: certificate reloaded from %s", f.CertFile)
		}
	}
}

// reload loads the pair when the files' bytes changed.
func (f *FileCert) reload() (bool, error) {
	certPEM, err := os.ReadFile(f.CertFile)
	if err != nil {
		return false, fmt.Errorf("serving certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(f.KeyFile)
	if err != nil {
		return false, fmt.Errorf("serving key: %w", err)
	}
	if bytes.Equal(certPEM, f.certPEM) && bytes.Equal(keyPEM, f.keyPEM) {
		return false, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, fmt.Errorf("serving certificate %s / %s: %w", f.CertFile, f.KeyFile, err)
	}
	f.cur.Store(&cert)
	f.certPEM, f.keyPEM = certPEM, keyPEM
	return true, nil
}
