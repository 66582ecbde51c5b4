package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// row is one line of the table; met is nil when the figure has no target.
type row struct {
	what, target, measured string
	met                    *bool
}

type table struct {
	rows []row
	// containerCall is the CONTAINER call's own time (1 caller, p50), for
	// the real node's per-step comparison.
	containerCall time.Duration
}

func newTable() *table { return &table{} }

func (t *table) add(what, target, measured string, met *bool) {
	t.rows = append(t.rows, row{what, target, measured, met})
}

func check(ok bool) *bool { return &ok }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func (t *table) sizes(binary, image string) error {
	fi, err := os.Stat(binary)
	if err != nil {
		return fmt.Errorf("the binary to measure: %w", err)
	}
	t.add("Binary size (static, stripped)", "", mib(fi.Size()), nil)
	if image == "" {
		return nil
	}
	fi, err = os.Stat(image)
	if err != nil {
		return fmt.Errorf("the image tarball: %w", err)
	}
	t.add("Sidecar image size (OCI tarball, make image)", "", mib(fi.Size()), nil)
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func (t *table) startup(s startup) {
	t.add("Exec to /readyz 200 (median of fresh starts)", "≤ 50 ms", ms(s.toReady), check(s.toReady <= 50*time.Millisecond))
	t.add("Sidecar RSS, ready and idle", "≤ 15 MiB", fmt.Sprintf("%.1f MiB", s.idleRSS), check(s.idleRSS <= 15))
	t.add("A fresh sidecar's first call (ROOT_DAG)", "≤ 8 ms", ms(s.firstCall), check(s.firstCall <= 8*time.Millisecond))
}

// load adds the rows of one call type at one concurrency.
func (t *table) load(kind string, callers int, l load) {
	what := fmt.Sprintf("%s, %d caller", kind, callers)
	if callers > 1 {
		what += "s"
	}
	target, met := "", (*bool)(nil)
	p50 := l.quantile(.5)
	switch {
	case kind == "ROOT_DAG" && callers == 1:
		target, met = "p50 ≤ 2 ms (warm)", check(p50 <= 2*time.Millisecond)
	case strings.HasPrefix(kind, "CONTAINER") && callers == 1:
		target, met = "p50 ≤ 1 ms", check(p50 <= time.Millisecond)
		t.containerCall = p50
	case strings.HasPrefix(kind, "CONTAINER") && callers >= 16:
		target, met = "≥ 2,000 calls/s", check(l.perSecond() >= 2000)
	}
	t.add(what, target, fmt.Sprintf("p50 %s, p99 %s, %.0f calls/s, %.2f MLMD RPCs/call", ms(p50), ms(l.quantile(.99)),
		l.perSecond(), l.rpcsPerCall()), met)
	if callers > 1 {
		cpu, target, met := l.cpuPerCall(), "", (*bool)(nil)
		if strings.HasPrefix(kind, "CONTAINER") {
			target, met = "≤ 0.3 ms", check(cpu <= 300*time.Microsecond)
		}
		t.add("Sidecar CPU per call: "+kind, target, ms(cpu), met)
	}
}

func (t *table) peakRSS(mib float64) {
	t.add("Sidecar peak RSS (after every load)", "≤ 40 MiB", fmt.Sprintf("%.1f MiB", mib), check(mib <= 40))
}

func (t *table) history(few, many load) {
	r := float64(many.quantile(.5)) / float64(few.quantile(.5))
	t.add("CONTAINER, 1 caller, 1,000 vs 10 earlier tasks in the run", "≤ 1.5x",
		fmt.Sprintf("p50 %s vs %s: %.2fx", ms(many.quantile(.5)), ms(few.quantile(.5)), r), check(r <= 1.5))
}

func (t *table) print(w io.Writer, command string) {
	fmt.Fprintf(w, "kfp-driver-plugin benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine: %s, %d cores (%s), %s\n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version())
	fmt.Fprintf(w, "command: %s\n\n", command)
	fmt.Fprintln(w, "| What | Target | Measured | |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range t.rows {
		verdict := ""
		if r.met != nil {
			verdict = "met"
			if !*r.met {
				verdict = "**missed**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.what, r.target, r.measured, verdict)
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	out, err := exec.Command("uname", "-sr").Output()
	if err != nil {
		return runtime.GOOS
	}
	return strings.TrimSpace(string(out))
}
