package runtoken

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

// KFPTokenPath is where KFP's driver pod has its projected run token. Fixed
// here, never taken from a template or flag: the drive command runs with
// KFP's driver arguments.
const KFPTokenPath = "/var/run/secrets/kfp/token"

// File reads a projected token file, again whenever it changed (the kubelet
// rewrites it well before it expires). Safe for concurrent use.
type File struct {
	path string

	mu    sync.Mutex
	stat  os.FileInfo
	token string
}

// NewFile reads tokens from path.
func NewFile(path string) *File { return &File{path: path} }

// Source is f as the KFP API client's token source. The run ID is not
// used: the pod's token is already bound to its run.
func (f *File) Source() kfpapi.TokenSource {
	return func(context.Context, string) (string, error) { return f.Token() }
}

// Token is the file's token, read again if the file changed since.
func (f *File) Token() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path) // follows the kubelet's ..data symlink
	if err != nil {
		return "", fmt.Errorf("KFP API token: %w", err)
	}
	if f.stat != nil && sameVersion(f.stat, st) {
		return f.token, nil
	}
	b, err := plugin.ReadSmallFile(f.path, plugin.MaxTokenFileBytes)
	if err != nil {
		return "", fmt.Errorf("KFP API token: %w", err)
	}
	tok := string(bytes.TrimSpace(b))
	if tok == "" {
		return "", fmt.Errorf("KFP API token: %s is empty", f.path)
	}
	f.stat, f.token = st, tok
	return tok, nil
}

// sameVersion: the kubelet swaps in a new file (a new inode) on rotation;
// modification time and size catch a rewrite in place.
func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// FileIfPresent is the file source when path exists, else nil (no token:
// a KFP install without authentication mounts none).
func FileIfPresent(path string) kfpapi.TokenSource {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	return NewFile(path).Source()
}
