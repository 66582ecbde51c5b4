package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPUAddsUserAndSystemTime(t *testing.T) {
	// A name with spaces and a parenthesis must not shift the fields.
	line := "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 1000 0 0"
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Errorf("CPU %s, want %s (250 + 75 ticks)", got, want)
	}
	if _, err := parseStatCPU("42 (x) S 1 2"); err == nil {
		t.Error("a short line parsed without error")
	}
}

func TestOwnProcessIsMeasured(t *testing.T) {
	pid := os.Getpid()
	if rss := RSSKiB(pid); rss <= 0 {
		t.Errorf("RSS %d KiB", rss)
	}
	rss := RSSKiB(pid) // before the peak: the peak can only have grown since
	if peak := PeakRSSKiB(pid); peak < rss {
		t.Errorf("peak RSS %d KiB below current %d KiB", peak, rss)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cpu, err := CPUTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		if cpu > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no CPU time counted after 10 s of spinning")
		}
		for i := 0; i < 1e6; i++ { // burn some CPU so a tick is counted
			_ = i * i
		}
	}
	if busy, err := MachineBusy(); err != nil || busy <= 0 {
		t.Errorf("machine busy %s, %v", busy, err)
	}
	if RSSKiB(-1) != -1 {
		t.Error("a missing process has an RSS")
	}
}
