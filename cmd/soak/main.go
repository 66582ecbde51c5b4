// Command soak drives a real `kfp-driver-plugin serve` process the way
// Argo's agents would, for a bounded time: many concurrent callers walking
// real KFP pipeline specs (every call repeated, some sent twice at once),
// plus a share of malformed and hostile calls, against the in-memory MLMD
// and ml-pipeline test servers. Everything listens on 127.0.0.1 only.
//
//	go run ./cmd/soak -binary bin/kfp-driver-plugin -minutes 2   (make soak)
//
// It prints calls/s, p50/p99 per driver type, the sidecar's RSS and
// goroutines over time, and the duplicate executions found in MLMD (must
// be 0). It exits non-zero when a check fails: duplicates, a 5xx other than
// 503, a hostile call answered Succeeded, differing replies to identical
// calls, or a walk that failed.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type options struct {
	binary   string
	minutes  float64
	callers  int
	maxRuns  int64
	badEvery int
	sample   time.Duration
	specs    string
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/kfp-driver-plugin", "the kfp-driver-plugin binary to run as `serve`")
	flag.Float64Var(&o.minutes, "minutes", 2, "how long to drive it")
	flag.IntVar(&o.callers, "callers", 16, "concurrent callers")
	flag.Int64Var(&o.maxRuns, "max-runs", 50000, "stop after this many pipeline runs even if time is left")
	flag.IntVar(&o.badEvery, "bad-every", 10, "each caller sends a burst of malformed or hostile calls after every N runs")
	flag.DurationVar(&o.sample, "sample", 10*time.Second, "how often RSS and goroutines are sampled")
	flag.StringVar(&o.specs, "specs", "driver/testdata/pipelines", "directory of the real KFP pipeline specs")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}
