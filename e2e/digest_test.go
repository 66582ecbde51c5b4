package e2e

import (
	"fmt"
	"strings"
	"sync"
)

// failureDigest collects a short reason per failed case.
type failureDigest struct {
	mu      sync.Mutex
	reasons []string
}

// digestLines bounds each reason: the digest must stay in a log's tail.
const digestLines = 40

func (d *failureDigest) add(name, why string) {
	lines := strings.Split(strings.TrimRight(why, "\n"), "\n")
	if len(lines) > digestLines {
		lines = append(lines[:digestLines], fmt.Sprintf("[%d more lines above in the case's own output]", len(lines)-digestLines))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reasons = append(d.reasons, "=== "+name+"\n"+strings.Join(lines, "\n"))
}

func (d *failureDigest) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.reasons, "\n")
}
