package e2e

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Timings records how long each phase took, in order, and echoes each one
// as it ends so that a slow cold start shows where the time goes.
type Timings struct {
	mu     sync.Mutex
	out    io.Writer
	phases []Phase
}

// Phase is one timed step.
type Phase struct {
	Name     string
	Duration time.Duration
}

// NewTimings echoes finished phases to out (nil: silent).
func NewTimings(out io.Writer) *Timings { return &Timings{out: out} }

// Time runs f as phase name.
func (t *Timings) Time(name string, f func() error) error {
	start := time.Now()
	err := f()
	t.Add(name, time.Since(start))
	return err
}

// Add records a phase measured elsewhere.
func (t *Timings) Add(name string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phases = append(t.phases, Phase{name, d})
	if t.out != nil {
		fmt.Fprintf(t.out, "e2e: %-44s %8s\n", name, d.Round(time.Millisecond))
	}
}

// Phases returns a copy of the recorded phases.
func (t *Timings) Phases() []Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Phase(nil), t.phases...)
}

// String is a table of all phases.
func (t *Timings) String() string {
	var b strings.Builder
	for _, p := range t.Phases() {
		fmt.Fprintf(&b, "  %-44s %8s\n", p.Name, p.Duration.Round(time.Millisecond))
	}
	return b.String()
}
