package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/loopback"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

func run(o options) error {
	if o.callers < 1 || o.minutes <= 0 || o.badEvery < 1 {
		return errors.New("-callers, -minutes and -bad-every must be positive")
	}
	specs, err := loadSpecs(o.specs)
	if err != nil {
		return err
	}
	svc, err := loopback.StartServices()
	if err != nil {
		return err
	}
	defer svc.Stop()
	dir, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return err
	}
	procCtx, stopProc := context.WithCancel(context.Background())
	defer stopProc()
	sc, err := loopback.StartSidecar(procCtx, o.binary, svc, dir, loopback.SidecarOptions{Namespace: namespace})
	if err != nil {
		return err
	}
	fmt.Printf("soak: serve pid %d on %s (log %s), MLMD %s, ml-pipeline %s; %d callers for %.1f min\n",
		sc.Cmd.Process.Pid, sc.URL, sc.Log, svc.MLMD.Addr, svc.TaskAddr, o.callers, o.minutes)

	mhost, mport, _ := net.SplitHostPort(svc.MLMD.Addr)
	phost, pport, _ := net.SplitHostPort(svc.TaskAddr)
	opts := driver.Options{MLMDAddress: mhost, MLMDPort: mport, MLPipelineAddress: phost, MLPipelinePort: pport, LogLevel: "1", PublishLogs: "true"}
	pool := mlmd.NewPool(mlmd.Config{})
	defer pool.Close()
	client, err := pool.Get(mlmd.Endpoint{Host: mhost, Port: mport})
	if err != nil {
		return err
	}
	var tasks mlpipeline.Pool
	defer tasks.Close()
	taskClient, err := tasks.Client(mlpipeline.Options{Address: svc.TaskAddr})
	if err != nil {
		return err
	}
	launcher := &drivertest.Launcher{MLMD: client, Cache: cache.New(taskClient), Namespace: namespace}
	base := func(p *drivertest.Pipeline, runID string) driver.Request {
		return driver.Request{Namespace: namespace, PipelineName: p.Spec.GetPipelineInfo().GetName(), RunID: runID,
			RunName: "wf-" + runID, WorkflowName: "wf-" + runID, WorkflowUID: runID,
			PipelineJobCreateTime: "2026-01-02T03:04:05Z", IterationIndex: -1, Options: opts}
	}
	hostile, err := hostileBodies(specs[0], base(specs[0], "hostile"))
	if err != nil {
		return err
	}
	st := newStats()
	fw := &forwarder{url: sc.URL, token: sc.Token, stats: st,
		client: &http.Client{Timeout: 40 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * o.callers}}}
	t := &traffic{o: o, sc: sc, drv: httpDriver(fw, sc.Token), specs: specs, hostile: hostile, stats: st,
		walkers: func(p *drivertest.Pipeline, runID string) *drivertest.Walker {
			return &drivertest.Walker{Launcher: launcher, MLMD: client, Base: base(p, runID)}
		}}

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.minutes*float64(time.Minute)))
	defer cancel()
	samplesc := make(chan []sample, 1)
	go func() { samplesc <- sampler(ctx, sc.Cmd.Process.Pid, sc.URL+"/metrics", o.sample, st, start) }()
	var wg sync.WaitGroup
	for range o.callers {
		wg.Add(1)
		go func() { defer wg.Done(); t.caller(ctx) }()
	}
	wg.Wait()
	cancel()
	elapsed := time.Since(start)
	samples := <-samplesc

	total, dups, err := duplicates(context.Background(), svc.MLMD.Addr)
	if err != nil {
		return fmt.Errorf("counting executions: %w", err)
	}
	report(os.Stdout, st, samples, elapsed, st.runsDone.Load(), total, dups)
	return verdict(t, st, dups)
}

func verdict(t *traffic, st *stats, dups int) error {
	var errs []error
	if dups > 0 {
		errs = append(errs, fmt.Errorf("%d duplicate executions in MLMD", dups))
	}
	if n := st.badStatuses(); n > 0 {
		errs = append(errs, fmt.Errorf("%d replies were 5xx other than 503", n))
	}
	if n := st.hostileSucceeded.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("%d hostile calls answered Succeeded", n))
	}
	if n := st.mismatches.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("%d identical concurrent calls got different replies", n))
	}
	if n := t.failures.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("%d runs failed, first: %v", n, t.firstErr.Load()))
	}
	return errors.Join(errs...)
}
