package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/golang/glog"
)

// Defaults of SelfSigned.
const (
	DefaultValidity    = 30 * 24 * time.Hour
	DefaultPropagation = 30 * time.Second
	defaultResync      = time.Minute
	defaultRetry       = 5 * time.Second
)

// SelfSigned is the self-managed serving certificate: a CA and certificate
// made in memory, the CA put into the webhook configuration's caBundle,
// renewed when a third of the validity is left. A renewed CA goes into the
// bundle first and is served only after Propagation, so that API servers
// have seen it; the old CA stays in the bundle until it expires. The bundle
// is checked every minute, so a `kubectl apply` that emptied it is repaired.
type SelfSigned struct {
	DNSNames    []string
	IPs         []net.IP
	Validity    time.Duration // default DefaultValidity
	Propagation time.Duration // default DefaultPropagation; 0 in tests via NoPropagation
	Bundle      CABundle
	Now         func() time.Time
	// NoPropagation serves a renewed certificate as soon as its CA is in
	// the bundle (tests).
	NoPropagation bool

	cur       atomic.Pointer[issued]
	next      *issued // renewed, waiting for Propagation; owned by Run
	nextSince time.Time
}

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (s *SelfSigned) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := s.cur.Load(); c != nil {
		return c.cert, nil
	}
	return nil, errors.New("serving certificate not issued yet")
}

// Ready reports whether a certificate is served and its CA is in the bundle.
func (s *SelfSigned) Ready() bool { return s.cur.Load() != nil }

// Run issues, publishes and renews until ctx is done.
func (s *SelfSigned) Run(ctx context.Context) {
	for {
		wait := s.step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// step does what is due now and returns how long to wait for the next step.
func (s *SelfSigned) step(ctx context.Context) time.Duration {
	now := s.now()
	cur := s.cur.Load()
	switch {
	case cur == nil:
		return s.first(ctx, now)
	case !now.Before(cur.notAfter.Add(-s.validity() / 3)):
		return s.renew(ctx, now)
	}
	if err := s.Bundle.Ensure(ctx, cur.caPEM); err != nil {
		glog.Warningf("webhook TLS: %v", err)
		return defaultRetry
	}
	return min(defaultResync, cur.notAfter.Add(-s.validity()/3).Sub(now))
}

func (s *SelfSigned) first(ctx context.Context, now time.Time) time.Duration {
	iss, err := s.pending(now)
	if err != nil {
		glog.Errorf("webhook TLS: %v", err)
		return defaultRetry
	}
	if err := s.Bundle.Ensure(ctx, iss.caPEM); err != nil {
		glog.Warningf("webhook TLS: %v (retrying)", err)
		return defaultRetry
	}
	s.promote(iss)
	return 0
}

// renew publishes the next CA and, once it has had time to propagate,
// serves the next certificate.
func (s *SelfSigned) renew(ctx context.Context, now time.Time) time.Duration {
	fresh := s.next == nil
	iss, err := s.pending(now)
	if err != nil {
		glog.Errorf("webhook TLS: renewing: %v", err)
		return defaultRetry
	}
	if err := s.Bundle.Ensure(ctx, iss.caPEM); err != nil {
		glog.Warningf("webhook TLS: renewing: %v (retrying)", err)
		return defaultRetry
	}
	if fresh || s.nextSince.IsZero() {
		s.nextSince = now
		glog.Infof("webhook TLS: new CA added to the caBundle; serving the renewed certificate in %s", s.propagation())
	}
	if wait := s.nextSince.Add(s.propagation()).Sub(now); wait > 0 {
		return wait
	}
	s.promote(iss)
	return 0
}

// pending returns the certificate waiting to be served, issuing it first.
func (s *SelfSigned) pending(now time.Time) (*issued, error) {
	if s.next != nil {
		return s.next, nil
	}
	iss, err := issue(now, s.validity(), s.DNSNames, s.IPs)
	if err != nil {
		return nil, err
	}
	s.next, s.nextSince = iss, time.Time{}
	return iss, nil
}

func (s *SelfSigned) promote(iss *issued) {
	s.cur.Store(iss)
	s.next, s.nextSince = nil, time.Time{}
	glog.Infof("webhook TLS: serving a certificate for %v %v valid until %s", s.DNSNames, s.IPs, iss.notAfter.UTC().Format(time.RFC3339))
}

func (s *SelfSigned) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SelfSigned) validity() time.Duration {
	if s.Validity > 0 {
		return s.Validity
	}
	return DefaultValidity
}

func (s *SelfSigned) propagation() time.Duration {
	switch {
	case s.NoPropagation:
		return 0
	case s.Propagation > 0:
		return s.Propagation
	}
	return DefaultPropagation
}
