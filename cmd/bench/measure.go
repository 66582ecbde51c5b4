package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/loopback"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/procstat"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
)

// batchSize is how many CONTAINER or loop calls share one run, so the
// number of tasks already in a run stays near what the row says.
const batchSize = 100

// startup is what fresh sidecars showed, each figure the median of starts.
type startup struct {
	toReady   time.Duration
	idleRSS   float64 // MiB
	firstCall time.Duration
}

// measure runs every loopback phase and, with -node, reads the node rows.
func measure(ctx context.Context, o options) (*table, error) {
	if o.profile != "" {
		port, err := loopback.FreePort()
		if err != nil {
			return nil, err
		}
		o.pprofAddr = "127.0.0.1:" + strconv.Itoa(port)
	}
	t := newTable()
	if err := t.sizes(o.binary, o.image); err != nil {
		return nil, err
	}
	svc, err := loopback.StartServices()
	if err != nil {
		return nil, err
	}
	defer svc.Stop()
	dir, err := os.MkdirTemp("", "kfp-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ps := &pools{mlmd: mlmd.NewPool(mlmd.Config{})}
	defer ps.close()

	st, sc, err := startups(ctx, o, svc, dir, ps)
	if err != nil {
		return nil, err
	}
	defer sc.Stop()
	t.startup(st)
	m, err := newMaker(svc, sc, o.specs, ps)
	if err != nil {
		return nil, err
	}
	p := newPoster(sc, svc)
	if err := loads(ctx, o, t, m, p); err != nil {
		return nil, err
	}
	t.peakRSS(float64(procstat.PeakRSSKiB(sc.Cmd.Process.Pid)) / 1024)
	if o.profile != "" {
		if err := profileContainers(ctx, o, m, p, sc); err != nil {
			return nil, err
		}
	}
	if o.node != "" {
		if err := t.nodeRows(o.node); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// startups starts o.starts fresh sidecars one after another, each timed to
// ready, measured idle and given its first ROOT_DAG call; the last one is
// kept running for the loads.
func startups(ctx context.Context, o options, svc *loopback.Services, dir string, ps *pools) (startup, *loopback.Sidecar, error) {
	var ready, first []time.Duration
	var rss []float64
	var sc *loopback.Sidecar
	for i := range o.starts {
		if sc != nil {
			sc.Stop()
		}
		env := append([]string(nil), o.env...)
		if o.profile != "" {
			env = append(env, "KFP_DRIVER_PLUGIN_PPROF_ADDR="+o.pprofAddr)
		}
		var err error
		sc, err = loopback.StartSidecar(ctx, o.binary, svc, dir, loopback.SidecarOptions{Namespace: namespace, Env: env})
		if err != nil {
			return startup{}, nil, fmt.Errorf("start %d: %w", i+1, err)
		}
		ready = append(ready, sc.ToReady)
		if err := settle(sc.Cmd.Process.Pid); err != nil {
			sc.Stop()
			return startup{}, nil, err
		}
		rss = append(rss, float64(procstat.RSSKiB(sc.Cmd.Process.Pid))/1024)
		m, err := newMaker(svc, sc, o.specs, ps)
		if err != nil {
			sc.Stop()
			return startup{}, nil, err
		}
		bodies, err := m.rootDAGs(1)
		if err != nil {
			sc.Stop()
			return startup{}, nil, err
		}
		l, err := newPoster(sc, svc).run(ctx, bodies, 1)
		if err != nil {
			sc.Stop()
			return startup{}, nil, fmt.Errorf("first call of start %d: %w", i+1, err)
		}
		first = append(first, l.latencies[0])
	}
	return startup{toReady: median(ready), idleRSS: median(rss), firstCall: median(first)}, sc, nil
}

// settle waits until the ready process's resident memory stops growing
// (its start-up goroutines done), at most a few seconds.
func settle(pid int) error {
	deadline := time.Now().Add(5 * time.Second)
	last := procstat.RSSKiB(pid)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		now := procstat.RSSKiB(pid)
		if now < 0 {
			return fmt.Errorf("sidecar %d exited while idle", pid)
		}
		if now == last {
			return nil
		}
		last = now
	}
	return nil
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// kinds are the measured call types in table order.
var kinds = []struct {
	name  string
	build func(ctx context.Context, m *maker, n int) ([][]byte, error)
}{
	{"ROOT_DAG", func(_ context.Context, m *maker, n int) ([][]byte, error) { return m.rootDAGs(n) }},
	{"CONTAINER, 3 inputs", func(ctx context.Context, m *maker, n int) ([][]byte, error) { return batches(ctx, n, 10, m.containers) }},
	{"DAG, ParallelFor over 100 items", func(ctx context.Context, m *maker, n int) ([][]byte, error) {
		return batches(ctx, n, 0, func(ctx context.Context, k, _ int) ([][]byte, error) { return m.loopDAGs(ctx, k) })
	}},
	{"DAG, one ParallelFor iteration", func(ctx context.Context, m *maker, n int) ([][]byte, error) { return m.iterations(ctx, n) }},
}

// batches builds n bodies, batchSize per run.
func batches(ctx context.Context, n, prior int, build func(ctx context.Context, n, prior int) ([][]byte, error)) ([][]byte, error) {
	var out [][]byte
	for len(out) < n {
		b, err := build(ctx, min(batchSize, n-len(out)), prior)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// loads measures each call type at one caller and at o.callers, then the
// CONTAINER call with 10 against 1,000 earlier tasks in its run.
func loads(ctx context.Context, o options, t *table, m *maker, p *poster) error {
	warm, err := batches(ctx, 200, 10, m.containers)
	if err != nil {
		return err
	}
	if _, err := p.run(ctx, warm, o.callers); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}
	for _, k := range kinds {
		for _, callers := range []int{1, o.callers} {
			bodies, err := k.build(ctx, m, o.calls)
			if err != nil {
				return fmt.Errorf("preparing %s: %w", k.name, err)
			}
			l, err := p.run(ctx, bodies, callers)
			if err != nil {
				return fmt.Errorf("%s at %d callers: %w", k.name, callers, err)
			}
			t.load(k.name, callers, l)
		}
	}
	var prior [2]load
	for i, n := range []int{10, 1000} {
		bodies, err := batches(ctx, o.calls/2, n, m.containers)
		if err != nil {
			return err
		}
		if prior[i], err = p.run(ctx, bodies, 1); err != nil {
			return fmt.Errorf("CONTAINER with %d earlier tasks: %w", n, err)
		}
	}
	t.history(prior[0], prior[1])
	return nil
}
