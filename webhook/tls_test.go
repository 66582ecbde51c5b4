package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// memBundle is a CABundle in memory, merging as the real one does.
type memBundle struct {
	mu     sync.Mutex
	pem    []byte
	now    func() time.Time
	writes int
	fail   bool
}

func (b *memBundle) Ensure(_ context.Context, caPEM []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return errTestBundle
	}
	merged := mergeBundle(b.pem, caPEM, b.now())
	if string(merged) != string(b.pem) {
		b.pem, b.writes = merged, b.writes+1
	}
	return nil
}

func (b *memBundle) pool() *x509.CertPool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(b.pem)
	return p
}

type testError string

func (e testError) Error() string { return string(e) }

const errTestBundle = testError("bundle write refused")

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func served(t *testing.T, s *SelfSigned) *x509.Certificate {
	t.Helper()
	c, err := s.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf
}

func verifies(cert *x509.Certificate, pool *x509.CertPool, at time.Time) error {
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "svc.ns.svc", CurrentTime: at})
	return err
}

// TestSelfSignedRenewal steps the rotation on a fake clock: nothing is
// served before the CA is in the bundle; renewal starts with a third of the
// validity left, publishes the new CA first and switches the served
// certificate only after the propagation delay; the old CA stays trusted
// until it expires; the served certificate always verifies against the
// bundle.
func TestSelfSignedRenewal(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	bundle := &memBundle{now: clock.Now, fail: true}
	s := &SelfSigned{DNSNames: []string{"svc.ns.svc"}, Validity: 30 * time.Hour, Propagation: time.Minute, Bundle: bundle, Now: clock.Now}
	ctx := context.Background()

	s.step(ctx)
	if s.Ready() {
		t.Fatal("ready although the CA could not be published")
	}
	bundle.fail = false
	if wait := s.step(ctx); !s.Ready() || wait != 0 {
		t.Fatalf("after publishing: ready %v, wait %s", s.Ready(), wait)
	}
	first := served(t, s)
	if err := verifies(first, bundle.pool(), clock.Now()); err != nil {
		t.Fatalf("served certificate not trusted by the bundle: %v", err)
	}
	if wait := s.step(ctx); wait != time.Minute {
		t.Errorf("resync wait %s, want 1m", wait)
	}

	clock.Add(20 * time.Hour) // a third of 30h left
	wait := s.step(ctx)
	if served(t, s) != first || len(parseBundle(bundle.pem)) != 2 || wait != time.Minute {
		t.Fatalf("renewal start: served changed %v, %d CAs, wait %s", served(t, s) != first, len(parseBundle(bundle.pem)), wait)
	}
	clock.Add(time.Minute)
	s.step(ctx)
	second := served(t, s)
	if second == first {
		t.Fatal("renewed certificate not served after the propagation delay")
	}
	for _, c := range []*x509.Certificate{first, second} {
		if err := verifies(c, bundle.pool(), clock.Now()); err != nil {
			t.Errorf("during the overlap: %v", err)
		}
	}
	clock.Add(11 * time.Hour) // the first CA has expired
	s.step(ctx)
	if n := len(parseBundle(bundle.pem)); n != 1 {
		t.Errorf("%d CAs in the bundle after the first expired, want 1", n)
	}
	if err := verifies(served(t, s), bundle.pool(), clock.Now()); err != nil {
		t.Error(err)
	}
}

// TestSelfSignedShortValidityOverTLS runs the rotation in real time with a
// 3 s validity behind a real TLS listener: clients trusting only the bundle
// connect all along, and the served certificate changes before the first
// expires.
func TestSelfSignedShortValidityOverTLS(t *testing.T) {
	bundle := &memBundle{now: time.Now}
	s := &SelfSigned{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Validity: 3 * time.Second, NoPropagation: true, Bundle: bundle}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: s.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})}
	go srv.Serve(ln)
	defer srv.Close()

	seen := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d serving certificates in 10s, want a renewal", len(seen))
		}
		if s.Ready() {
			// The bundle is read during the handshake, as an API server
			// that has seen the latest bundle would: with NoPropagation a
			// renewed certificate is served as soon as its CA is in the
			// bundle, so a pool read before the request could be stale.
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, // verified by VerifyConnection against the bundle
				VerifyConnection: func(cs tls.ConnectionState) error {
					_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: bundle.pool(), DNSName: "127.0.0.1"})
					return err
				},
			}, DisableKeepAlives: true}}
			resp, err := client.Get("https://" + ln.Addr().String())
			if err != nil {
				t.Fatalf("client trusting the bundle: %v", err)
			}
			seen[string(resp.TLS.PeerCertificates[0].Raw)] = true
			resp.Body.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMergeBundle(t *testing.T) {
	now := time.Now()
	old, _ := issue(now.Add(-2*time.Hour), time.Hour, []string{"a"}, nil) // expired
	live, _ := issue(now.Add(-time.Minute), time.Hour, []string{"b"}, nil)
	own, _ := issue(now, time.Hour, []string{"c"}, nil)
	bundle := append(append(append([]byte{}, old.caPEM...), live.caPEM...), []byte("junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")...)
	merged := mergeBundle(bundle, own.caPEM, now)
	if want := append(append([]byte{}, own.caPEM...), live.caPEM...); string(merged) != string(want) {
		t.Errorf("merged bundle: want own then the live CA, newest first, expired and junk dropped")
	}
	if again := mergeBundle(merged, live.caPEM, now); string(again) != string(merged) {
		t.Error("merging a CA already there changed the bundle (replicas would rewrite each other)")
	}
	var many []byte
	for i := 0; i < maxBundleCAs+3; i++ {
		c, _ := issue(now.Add(time.Duration(i)*time.Second), time.Hour, []string{"x"}, nil)
		many = append(many, c.caPEM...)
	}
	oldest, _ := issue(now.Add(-30*time.Minute), time.Hour, []string{"mine"}, nil)
	capped := parseBundle(mergeBundle(many, oldest.caPEM, now))
	if len(capped) != maxBundleCAs || !containsCert(capped, parseBundle(oldest.caPEM)[0].Raw) {
		t.Errorf("capped bundle: %d CAs, own kept %v", len(capped), containsCert(capped, parseBundle(oldest.caPEM)[0].Raw))
	}
}

// TestFileCertReload: a renewed pair in the mounted files is served; a
// broken one keeps the previous.
func TestFileCertReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write := func(iss *issued) {
		t.Helper()
		key, err := x509.MarshalPKCS8PrivateKey(iss.cert.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(certFile, pemCert(iss.cert.Certificate[0]), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, pemBlock("PRIVATE KEY", key), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := issue(time.Now(), time.Hour, []string{"a"}, nil)
	b, _ := issue(time.Now(), time.Hour, []string{"b"}, nil)
	if _, err := LoadFileCert(certFile, keyFile); err == nil {
		t.Fatal("loaded missing files")
	}
	write(a)
	f, err := LoadFileCert(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	current := func() string {
		c, _ := f.GetCertificate(nil)
		l, _ := x509.ParseCertificate(c.Certificate[0])
		return l.DNSNames[0]
	}
	write(b)
	if changed, err := f.reload(); !changed || err != nil || current() != "b" {
		t.Fatalf("reload: changed %v, err %v, serving %s", changed, err, current())
	}
	if err := os.WriteFile(keyFile, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reload(); err == nil || current() != "b" {
		t.Errorf("broken key: err %v, serving %s", err, current())
	}
}
