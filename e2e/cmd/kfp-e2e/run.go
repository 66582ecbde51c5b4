package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e"
)

type result struct {
	file    string
	took    time.Duration
	argoGet string
	err     error
}

// runAll runs the files, c.parallel at a time, each in its own namespace.
func runAll(ctx context.Context, s *e2e.Stack, c config) []result {
	results := make([]result, len(c.files))
	sem := make(chan struct{}, max(1, c.parallel))
	var wg sync.WaitGroup
	for i, f := range c.files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runOne(ctx, s, f, c)
		}()
	}
	wg.Wait()
	return results
}

func runOne(ctx context.Context, s *e2e.Stack, file string, c config) result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r := result{file: file}
	t0 := time.Now()
	// One workflow (make demo) takes the user's real path: created in KFP's
	// namespace as KFP's API server creates it, converted by the admission
	// webhook. Several run side by side in profile namespaces, converted by
	// `convert`.
	ns := e2e.NamespaceFor(file)
	if len(c.files) == 1 {
		ns = e2e.KFPNamespace
	}
	s.SetBehaviour(ns, e2e.Behaviour{Fail: c.fail})
	wf, err := s.Run(ctx, ns, file, c.params)
	r.took = time.Since(t0)
	if err != nil {
		r.err = err
		return r
	}
	if !c.quiet {
		s.Timings.Add("run "+file+" ("+string(wf.Status.Phase)+")", r.took)
	}
	r.argoGet, err = s.ArgoCLI(ctx, "get", wf.Name, "-n", wf.Namespace)
	if err != nil {
		r.err = err
	} else if wf.Status.Phase != "Succeeded" {
		r.err = fmt.Errorf("%s: %s", wf.Status.Phase, firstFailure(r.argoGet, wf.Status.Message))
	}
	return r
}

// firstFailure picks the first failed node line of `argo get`.
func firstFailure(argoGet, fallback string) string {
	for _, line := range strings.Split(argoGet, "\n") {
		if strings.Contains(line, "✖") && strings.Contains(line, "driver") || strings.Contains(line, "stand-in") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return fallback
}
