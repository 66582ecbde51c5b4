// Package runtoken gives the native line's KFP API calls their bearer
// token, as KFP's driver pod has it: a token of the workflow's service
// account for the audience pipelines.kubeflow.org/runs/<run id>.
//
// KFP mounts that token into each driver pod as a projected volume. The
// plugin sidecar is shared by every step of a workflow and cannot mount a
// per-run volume, so Minter asks the API server for the same token
// (TokenRequest) and caches it per run. File reads the projected token for
// the one-shot drive command, which runs in KFP's own driver pod.
package runtoken

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
)

// KFP's values for the driver pod's token.
const (
	AudiencePrefix = "pipelines.kubeflow.org/runs/"
	Expiration     = 7200 * time.Second
)

// Cache defaults.
const (
	// RefreshMargin: a cached token is replaced this long before it
	// expires (or a fifth of its life, if that is shorter), so no call
	// goes out with a token about to lapse.
	RefreshMargin = 10 * time.Minute
	// MaxEntries bounds the cache. A sidecar serves one workflow, normally
	// one run; run IDs come from templates, so they are capped anyway.
	MaxEntries = 64
	// MintTimeout bounds one TokenRequest; it runs detached from the
	// caller that started it, since others may be waiting for it.
	MintTimeout = 10 * time.Second
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// CheckRunID accepts a run ID that may go into an audience: the run's
// workflow uid, a lowercase UUID as Kubernetes writes it. It comes from a
// template argument, so anything else is refused.
func CheckRunID(runID string) error {
	if !uuidRE.MatchString(runID) {
		return fmt.Errorf("run_id %q is not a run's id (a lowercase UUID, the workflow's uid)", runID)
	}
	return nil
}

// Audience is the audience of runID's token.
func Audience(runID string) string { return AudiencePrefix + runID }

// Minter mints and caches run tokens for one service account. Safe for
// concurrent use.
type Minter struct {
	tokens    kube.TokenCreator
	namespace string
	account   string
	// Now is the clock (tests); MaxEntries the cache bound.
	Now        func() time.Time
	MaxEntries int

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	token     string
	expiry    time.Time
	refreshAt time.Time
	// minting is closed when the mint in flight ends; nil when none is.
	minting chan struct{}
	err     error // of the last mint, for its waiters
}

// NewMinter mints tokens of namespace/account (the workflow's, which is
// the agent pod's) with tokens.
func NewMinter(tokens kube.TokenCreator, namespace, account string) *Minter {
	return &Minter{tokens: tokens, namespace: namespace, account: account, Now: time.Now,
		MaxEntries: MaxEntries, entries: map[string]*entry{}}
}

// Source is m as the KFP API client's token source.
func (m *Minter) Source() kfpapi.TokenSource { return m.Token }

// Token returns a token for runID: the cached one while it is fresh, else
// a new one. Concurrent calls for a run mint once.
func (m *Minter) Token(ctx context.Context, runID string) (string, error) {
	if err := CheckRunID(runID); err != nil {
		return "", err
	}
	for {
		m.mu.Lock()
		now := m.Now()
		e := m.entries[runID]
		if e != nil && e.token != "" && now.Before(e.refreshAt) {
			tok := e.token
			m.mu.Unlock()
			return tok, nil
		}
		if e == nil {
			m.makeRoom(now)
			e = &entry{}
			m.entries[runID] = e
		}
		wait := e.minting
		if wait == nil {
			wait = make(chan struct{})
			e.minting = wait
			go m.mint(context.WithoutCancel(ctx), runID, e, wait)
		}
		m.mu.Unlock()

		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-wait:
		}
		m.mu.Lock()
		tok, expiry, refreshAt, err := e.token, e.expiry, e.refreshAt, e.err
		m.mu.Unlock()
		now = m.Now()
		switch {
		case err == nil && now.Before(refreshAt):
			return tok, nil
		case tok != "" && now.Before(expiry):
			// A failed refresh: the old token still works for a while.
			return tok, nil
		case err != nil:
			return "", err
		}
		// Minted, but already due again (a clock jump): mint anew.
	}
}

// mint runs one TokenRequest for e and wakes its waiters.
func (m *Minter) mint(ctx context.Context, runID string, e *entry, done chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, MintTimeout)
	defer cancel()
	now := m.Now()
	tok, err := m.tokens.CreateToken(ctx, m.namespace, m.account, Audience(runID), Expiration)
	if err == nil && !tok.Expiry.After(now) {
		err = fmt.Errorf("token for run %s expires at %s, not after now", runID, tok.Expiry)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e.err = m.explain(err)
	if err == nil {
		life := tok.Expiry.Sub(now)
		e.token, e.expiry, e.refreshAt = tok.Value, tok.Expiry, tok.Expiry.Add(-min(RefreshMargin, life/5))
	}
	e.minting = nil
	close(done)
}

// explain adds the fix to the error an admin can fix: the plugin may not
// mint tokens for this account.
func (m *Minter) explain(err error) error {
	if err == nil || !apierrors.IsForbidden(err) {
		return err
	}
	return fmt.Errorf("%w (the plugin's ClusterRole must allow create on serviceaccounts/token with resourceNames %q; "+
		"see the README, native line)", err, m.account)
}

// makeRoom keeps the cache under MaxEntries before an insert: expired
// entries go first, then the one expiring soonest. Entries being minted
// stay (their waiters hold them).
func (m *Minter) makeRoom(now time.Time) {
	if len(m.entries) < m.MaxEntries {
		return
	}
	var oldest string
	for id, e := range m.entries {
		if e.minting != nil {
			continue
		}
		if !now.Before(e.expiry) {
			delete(m.entries, id)
			continue
		}
		if oldest == "" || e.expiry.Before(m.entries[oldest].expiry) {
			oldest = id
		}
	}
	if len(m.entries) >= m.MaxEntries && oldest != "" {
		delete(m.entries, oldest)
	}
}

// Len is the number of cached runs.
func (m *Minter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
