package runtoken

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
)

const (
	run1 = "0b6c6f1e-3f0c-4d6b-9a51-1f7f8f0e2a11"
	run2 = "7d1e2c3b-4a5f-4e6d-8c7b-9a0b1c2d3e4f"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeTokens mints "tok-<n>" tokens living life (default: as asked) on the
// clock; gate, when set, holds every mint until closed.
type fakeTokens struct {
	clock *clock
	life  time.Duration
	gate  chan struct{}
	err   error

	mu    sync.Mutex
	calls []string
}

func (f *fakeTokens) CreateToken(ctx context.Context, ns, sa, audience string, exp time.Duration) (kube.Token, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s/%s %s %s", ns, sa, audience, exp))
	if f.err != nil {
		return kube.Token{}, f.err
	}
	life := f.life
	if life == 0 {
		life = exp
	}
	return kube.Token{Value: fmt.Sprintf("tok-%d", len(f.calls)), Expiry: f.clock.Now().Add(life)}, nil
}

func (f *fakeTokens) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.calls) }

func newTest() (*Minter, *fakeTokens, *clock) {
	c := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &fakeTokens{clock: c}
	m := NewMinter(f, "team-a", "default-editor")
	m.Now = c.Now
	return m, f, c
}

func mustToken(t *testing.T, m *Minter, runID, want string) {
	t.Helper()
	got, err := m.Token(context.Background(), runID)
	if err != nil || got != want {
		t.Fatalf("Token(%s) = %q, %v; want %q", runID, got, err, want)
	}
}

func TestCheckRunID(t *testing.T) {
	if err := CheckRunID(run1); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "5f6a-uid", strings.ToUpper(run1), run1 + "\n", " " + run1,
		run1[:35], run1 + "0", "../runs/" + run1, run1 + "/runs/" + run2, "0b6c6f1e3f0c4d6b9a511f7f8f0e2a11",
		"0b6c6f1e-3f0c-4d6b-9a51-1f7f8f0e2a1g"} {
		err := CheckRunID(bad)
		if err == nil || !strings.Contains(err.Error(), "run_id") {
			t.Errorf("CheckRunID(%q) = %v, want an error naming run_id", bad, err)
		}
	}
}

func TestMinterRefusesBadRunIDWithoutMinting(t *testing.T) {
	m, f, _ := newTest()
	if _, err := m.Token(context.Background(), "x,pipelines.kubeflow.org"); err == nil || !strings.Contains(err.Error(), "run_id") {
		t.Fatalf("bad run ID: %v", err)
	}
	if f.count() != 0 || m.Len() != 0 {
		t.Fatalf("a bad run ID minted (%d) or was cached (%d)", f.count(), m.Len())
	}
}

func TestMinterCachesUntilRefresh(t *testing.T) {
	m, f, c := newTest()
	mustToken(t, m, run1, "tok-1")
	if want := "team-a/default-editor pipelines.kubeflow.org/runs/" + run1 + " 2h0m0s"; f.calls[0] != want {
		t.Fatalf("minted %q, want %q", f.calls[0], want)
	}
	c.Add(110*time.Minute - time.Second) // 2h token: refreshed 10 min before expiry
	mustToken(t, m, run1, "tok-1")
	c.Add(time.Second)
	mustToken(t, m, run1, "tok-2")
	mustToken(t, m, run2, "tok-3") // per run
	mustToken(t, m, run1, "tok-2")
	if f.count() != 3 {
		t.Fatalf("%d mints, want 3", f.count())
	}

	// A short-lived token (the server may cap expiration) is refreshed
	// with a fifth of its life left.
	m, f, c = newTest()
	f.life = 20 * time.Minute
	mustToken(t, m, run1, "tok-1")
	c.Add(16*time.Minute - time.Second)
	mustToken(t, m, run1, "tok-1")
	c.Add(time.Second)
	mustToken(t, m, run1, "tok-2")
}

func TestMinterSingleFlight(t *testing.T) {
	m, f, _ := newTest()
	f.gate = make(chan struct{})
	const n = 20
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = m.Token(context.Background(), run1) })
	}
	// One caller gives up while the mint is in flight; the others still
	// get the token (the mint is not tied to its context).
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error)
	go func() { _, err := m.Token(ctx, run1); cancelled <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(f.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != "tok-1" {
			t.Fatalf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	if f.count() != 1 {
		t.Fatalf("%d concurrent callers minted %d times, want once", n+1, f.count())
	}
}

func TestMinterErrors(t *testing.T) {
	m, f, c := newTest()
	f.err = apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts/token"}, "default-editor", errors.New("no RBAC"))
	_, err := m.Token(context.Background(), run1)
	if !apierrors.IsForbidden(err) || kube.IsTransient(err) || !strings.Contains(err.Error(), `resourceNames "default-editor"`) {
		t.Fatalf("forbidden: %v, want Forbidden, permanent, naming the RBAC fix", err)
	}
	f.err = apierrors.NewServiceUnavailable("busy")
	if _, err := m.Token(context.Background(), run1); !kube.IsTransient(err) || f.count() != 2 {
		t.Fatalf("unavailable: %v after %d mints, want a transient error and no cached failure", err, f.count())
	}
	f.err = nil
	mustToken(t, m, run1, "tok-3")

	// A failed refresh keeps the old token while it is valid, then fails.
	f.err = apierrors.NewServiceUnavailable("busy")
	c.Add(115 * time.Minute)
	mustToken(t, m, run1, "tok-3")
	c.Add(5 * time.Minute)
	if _, err := m.Token(context.Background(), run1); !kube.IsTransient(err) {
		t.Fatalf("expired token and failed mint: %v", err)
	}

	// A token that is already expired when it arrives is an error.
	m, f, _ = newTest()
	f.life = -time.Second
	if _, err := m.Token(context.Background(), run1); err == nil || !strings.Contains(err.Error(), "expires") {
		t.Fatalf("expired token: %v", err)
	}
}

func TestMinterBounded(t *testing.T) {
	m, f, c := newTest()
	m.MaxEntries = 3
	runs := []string{run1, run2, "11111111-2222-4333-8444-555555555555", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}
	f.life = time.Hour
	mustToken(t, m, runs[0], "tok-1")
	f.life = 2 * time.Hour
	mustToken(t, m, runs[1], "tok-2")
	mustToken(t, m, runs[2], "tok-3")
	mustToken(t, m, runs[3], "tok-4") // evicts runs[0], the one expiring first
	if m.Len() != 3 {
		t.Fatalf("%d entries, cap 3", m.Len())
	}
	mustToken(t, m, runs[1], "tok-2")
	mustToken(t, m, runs[0], "tok-5") // minted again
	// Expired entries go before live ones: all three are dropped.
	c.Add(3 * time.Hour)
	mustToken(t, m, "99999999-8888-4777-8666-555555555555", "tok-6")
	if m.Len() != 1 {
		t.Fatalf("%d entries after the others expired, want 1", m.Len())
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if FileIfPresent(path) != nil {
		t.Fatal("a source for a missing file")
	}
	if err := os.WriteFile(path, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := FileIfPresent(path)
	if src == nil {
		t.Fatal("no source for a present file")
	}
	if tok, err := src(context.Background(), run1); err != nil || tok != "first" {
		t.Fatalf("token %q, %v", tok, err)
	}
	// The kubelet's rotation: a new file swapped in.
	next := filepath.Join(dir, "next")
	if err := os.WriteFile(next, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	if tok, err := src(context.Background(), run1); err != nil || tok != "second" {
		t.Fatalf("after rotation: %q, %v", tok, err)
	}
	if err := os.WriteFile(path, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src(context.Background(), run1); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := src(context.Background(), run1); err == nil {
		t.Fatal("missing file: no error")
	}
}
