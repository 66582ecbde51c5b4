package platform

import (
	"fmt"
	"strings"
)

// Summary says what Apply did, for the node message in `argo get`.
type Summary struct {
	// Applied holds one short phrase per applied feature, in the order
	// Apply runs them, e.g. `mounted pvc "data" at /data`, `2 secrets as env`.
	Applied []string
	// Skipped names the config entries dropped because the optional input
	// they refer to has no value (KFP drops them too).
	Skipped []string
	// Warnings are user values ignored in favour of the admin's defaults.
	Warnings []string
}

// String renders the summary on one line, e.g.
// `mounted pvc "data" at /data; 2 secrets as env; node selector`.
func (s *Summary) String() string {
	if s == nil {
		return ""
	}
	parts := append([]string(nil), s.Applied...)
	if n := len(s.Skipped); n > 0 {
		parts = append(parts, fmt.Sprintf("skipped %s with null input (%s)",
			count(n, "entry", "entries"), strings.Join(s.Skipped, ", ")))
	}
	parts = append(parts, s.Warnings...)
	return strings.Join(parts, "; ")
}

func (s *Summary) add(format string, args ...any) {
	s.Applied = append(s.Applied, fmt.Sprintf(format, args...))
}

// addCount records "<n> <what>" when n > 0.
func (s *Summary) addCount(n int, one, many, suffix string) {
	if n > 0 {
		s.add("%s%s", count(n, one, many), suffix)
	}
}

func (s *Summary) skip(field string) { s.Skipped = append(s.Skipped, field) }

func (s *Summary) warn(format string, args ...any) {
	s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...))
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
