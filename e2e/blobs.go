package e2e

import (
	"errors"
	"slices"
	"sync"
)

// errStoreFull: a put would take the store past maxArtifactTotal.
var errStoreFull = errors.New("store full")

// blobs is the bounded in-memory store behind the harness's artifact store
// and the S3 stand-in.
type blobs struct {
	mu    sync.Mutex
	m     map[string][]byte
	total int
}

func (s *blobs) put(name string, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total+len(b) > maxArtifactTotal {
		return errStoreFull
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.total += len(b) - len(s.m[name])
	s.m[name] = b
	return nil
}

func (s *blobs) get(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[name]
	return b, ok
}

func (s *blobs) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
