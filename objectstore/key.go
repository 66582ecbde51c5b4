package objectstore

import "context"

// Key is an access key pair.
type Key struct {
	AccessKey string
	SecretKey string
}

// String never shows the secret: keys end up in error messages and logs.
func (k Key) String() string { return k.AccessKey + "/<secret>" }

// Issuer hands out the key a namespace's artifact Secret should carry.
type Issuer interface {
	// For returns the key for namespace ns, which has no artifact Secret.
	// Calling it again before Stored(ns) returns the same key.
	For(ctx context.Context, ns string) (Key, error)
	// Stored tells the issuer that ns's Secret exists: it may forget the
	// key it kept for it.
	Stored(ns string)
}

// Shared gives every namespace the same key: the MinIO-era behaviour, where
// the object store has no per-user policies.
type Shared struct{ Key Key }

// For returns the shared key.
func (s Shared) For(context.Context, string) (Key, error) { return s.Key, nil }

// Stored does nothing: there is nothing to forget.
func (Shared) Stored(string) {}
