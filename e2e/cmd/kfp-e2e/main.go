// Command kfp-e2e starts the end-to-end stack (real etcd, kube-apiserver, a
// real node, Argo workflow-controller, our plugin in Argo's agent pods), runs
// KFP-compiled workflows from the corpus converted by `kfp-driver-plugin
// convert`, prints `argo get` for each, and stops everything:
//
//	go run ./e2e/cmd/kfp-e2e -param a=1 -param b=2 hello_world.yaml add_numbers.yaml
//
// It is what `make demo` runs. -all runs every corpus workflow (-parallel
// at a time, in its own namespace) and prints a summary instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e"
)

type params map[string]any

func (p params) String() string { return fmt.Sprint(map[string]any(p)) }

func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want name=value, got %q", s)
	}
	p[k] = e2e.ParseParam(v)
	return nil
}

type config struct {
	files    []string
	params   params
	fail     failSet
	plugin   string
	timeout  time.Duration
	parallel int
	quiet    bool
}

type failSet map[string]bool

func (f failSet) String() string     { return fmt.Sprint(map[string]bool(f)) }
func (f failSet) Set(s string) error { f[s] = true; return nil }

func main() {
	c := config{params: params{}, fail: failSet{}}
	flag.Var(c.params, "param", "pipeline parameter name=value (JSON values are decoded), repeatable")
	flag.Var(c.fail, "fail", "task whose user code fails (the launcher stand-in exits 1), repeatable")
	keep := flag.Bool("keep", false, "keep the work directory (logs of every process)")
	all := flag.Bool("all", false, "run every workflow of the corpus and print a summary")
	flag.StringVar(&c.plugin, "plugin", "", "use this kfp-driver-plugin binary instead of building one")
	flag.DurationVar(&c.timeout, "timeout", 3*time.Minute, "deadline for each workflow")
	flag.IntVar(&c.parallel, "parallel", 1, "workflows run at a time")
	flag.Parse()
	c.files = flag.Args()
	if *all {
		files, err := e2e.CorpusFiles()
		if err != nil {
			fmt.Fprintln(os.Stderr, "kfp-e2e:", err)
			os.Exit(1)
		}
		c.files, c.quiet = files, true
	}
	if len(c.files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kfp-e2e [-param name=value] [-keep] [-all] [-parallel N] WORKFLOW.yaml... (files in "+e2e.CorpusDir+")")
		os.Exit(2)
	}
	if *keep {
		os.Setenv("KFP_TESTENV_KEEP", "1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "kfp-e2e:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) (err error) {
	start := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	// The controller runs with what the manifests' component ships, as in a
	// user's install.
	argoEnv, err := e2e.ShippedArgoEnv()
	if err != nil {
		return err
	}
	s, err := e2e.Start(startCtx, e2e.Options{Out: os.Stdout, PluginBin: c.plugin, ArgoEnv: argoEnv})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopStack(s, start)) }()
	results := runAll(ctx, s, c)
	failed := 0
	for _, r := range results {
		if !c.quiet {
			fmt.Print(r.argoGet)
		}
		if r.err != nil {
			failed++
			fmt.Printf("FAIL %-60s %v\n", r.file, r.err)
		} else if c.quiet {
			fmt.Printf("ok   %-60s %s\n", r.file, r.took.Round(time.Millisecond))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d workflows did not succeed", failed, len(results))
	}
	return nil
}

func stopStack(s *e2e.Stack, start time.Time) error {
	t0 := time.Now()
	if err := s.Stop(); err != nil {
		return err
	}
	s.Timings.Add("stop (pods deleted, node torn down, nothing left)", time.Since(t0))
	fmt.Printf("e2e: %-44s %8s\n", "total", time.Since(start).Round(time.Millisecond))
	if os.Getenv("KFP_TESTENV_KEEP") != "" {
		fmt.Println("e2e: logs kept in", s.Dir)
	}
	return nil
}
