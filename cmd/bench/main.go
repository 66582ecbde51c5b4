// Command bench measures a real `kfp-driver-plugin serve` process from
// outside, the way Argo's agent calls it, against the in-memory MLMD and
// ml-pipeline test servers on 127.0.0.1, and prints one table of the
// figures issue 13 sets targets for, with the machine, date and command:
//
//	go run ./cmd/bench -binary bin/kfp-driver-plugin -image bin/image.tar   (make bench)
//
// Every measured call is a new driver step (a new run, task, loop or
// iteration), so each one does the full work and writes MLMD; request
// bodies are encoded before the clock starts. With -node FILE it adds the
// real-node rows from a `go test -bench` output of the e2e benchmarks
// (make bench-node). With -profile DIR and a binary built with -tags
// pprof it writes CPU and allocation profiles of the 16-caller load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
)

type options struct {
	binary  string
	image   string
	specs   string
	calls   int
	callers int
	starts  int
	node    string
	profile string
	env     envList
	// pprofAddr is where a -tags pprof sidecar serves net/http/pprof (see
	// pprof_debug.go): a free loopback port, chosen when profiling.
	pprofAddr string
}

// envList is a repeatable -env KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, ",") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/kfp-driver-plugin", "the kfp-driver-plugin binary to run as `serve`")
	flag.StringVar(&o.image, "image", "", "the sidecar's OCI image tarball, for its size (make image)")
	flag.StringVar(&o.specs, "specs", "driver/testdata", "directory holding bench/three_inputs.json and pipelines/")
	flag.IntVar(&o.calls, "calls", 2000, "calls per measured batch")
	flag.IntVar(&o.callers, "callers", 16, "concurrent callers of the loaded batches")
	flag.IntVar(&o.starts, "starts", 5, "fresh sidecars started for the start-up figures")
	flag.StringVar(&o.node, "node", "", "go test -bench output of the e2e benchmarks to add the real-node rows from")
	flag.StringVar(&o.profile, "profile", "", "write cpu.pprof and allocs.pprof of the loaded CONTAINER batch here (needs a -tags pprof binary)")
	flag.Var(&o.env, "env", "KEY=VALUE added to the sidecar's environment (repeatable), e.g. GOGC=50")
	flag.Parse()
	if o.calls < 100 || o.callers < 1 || o.starts < 1 {
		fmt.Fprintln(os.Stderr, "bench: -calls must be at least 100, -callers and -starts positive")
		os.Exit(2)
	}
	t, err := measure(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	t.print(os.Stdout, "go run ./cmd/bench "+strings.Join(os.Args[1:], " "))
}
