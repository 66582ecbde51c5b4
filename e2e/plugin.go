package e2e

import (
	"context"
	"path/filepath"
)

// buildPlugin builds the real binary (the module's main package) as the
// Makefile's build does (static), unless one was given. The Go build cache
// makes this a second or two once warm.
func (s *Stack) buildPlugin(ctx context.Context) error {
	if s.opts.PluginBin != "" {
		s.PluginBin = s.opts.PluginBin
		return nil
	}
	s.PluginBin = filepath.Join(s.Dir, "kfp-driver-plugin")
	return goBuild(ctx, s.PluginBin, ".")
}
