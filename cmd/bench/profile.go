package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/loopback"
)

// profileSeconds is how long the CPU profile of the loaded batch runs.
const profileSeconds = 10

// profileContainers keeps o.callers posting CONTAINER calls while the
// sidecar records a CPU profile, then saves it and the allocation profile
// (every allocation since the process started) in o.profile.
func profileContainers(ctx context.Context, o options, m *maker, p *poster, sc *loopback.Sidecar) error {
	if err := os.MkdirAll(o.profile, 0o755); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", o.pprofAddr, profileSeconds), filepath.Join(o.profile, "cpu.pprof"))
	}()
	for {
		bodies, err := batches(ctx, 500, 10, m.containers)
		if err != nil {
			return err
		}
		if _, err := p.run(ctx, bodies, o.callers); err != nil {
			return err
		}
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("CPU profile (is %s built with -tags pprof?): %w", o.binary, err)
			}
			return fetch("http://"+o.pprofAddr+"/debug/pprof/allocs", filepath.Join(o.profile, "allocs.pprof"))
		default:
		}
	}
}

func fetch(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
