package plugin

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// errNoToken means the token file could not be read: Argo's agent writes it
// in its init container, so the plugin answers 503 and Argo retries.
var errNoToken = errors.New("token unavailable")

// TokenFile checks bearer tokens against the file Argo's agent writes for
// the sidecar. The file is read once it exists and read again when a token
// does not match, so a rewritten file is picked up without a restart.
type TokenFile struct {
	path string

	mu    sync.Mutex
	token []byte
}

// NewTokenFile checks tokens against the file at path.
func NewTokenFile(path string) *TokenFile { return &TokenFile{path: path} }

// Check reports whether the Authorization header carries the token. It
// returns errNoToken (wrapped) when there is no token to compare with.
func (t *TokenFile) Check(header string) (bool, error) {
	got, ok := strings.CutPrefix(header, "Bearer ")
	want, err := t.current(false)
	if err != nil {
		return false, err
	}
	if ok && equal(want, got) {
		return true, nil
	}
	// Re-read once: the file may have been rewritten since we cached it.
	if want, err = t.current(true); err != nil {
		return false, err
	}
	return ok && equal(want, got), nil
}

func equal(want []byte, got string) bool {
	return subtle.ConstantTimeCompare(want, []byte(got)) == 1
}

func (t *TokenFile) current(reload bool) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != nil && !reload {
		return t.token, nil
	}
	b, err := ReadSmallFile(t.path, MaxTokenFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoToken, err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", errNoToken, t.path)
	}
	t.token = b
	return b, nil
}
