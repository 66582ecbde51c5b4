package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/loopback"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/procstat"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
)

// load is one measured batch: the same kind of call, callers at a time.
type load struct {
	calls     int
	elapsed   time.Duration
	latencies []time.Duration // sorted
	cpu       time.Duration   // the sidecar's CPU over the batch
	rpcs      int             // MLMD RPCs the batch caused
}

func (l load) perSecond() float64 { return float64(l.calls) / l.elapsed.Seconds() }

func (l load) quantile(q float64) time.Duration {
	if len(l.latencies) == 0 {
		return 0
	}
	return l.latencies[min(len(l.latencies)-1, int(q*float64(len(l.latencies))))]
}

func (l load) cpuPerCall() time.Duration { return l.cpu / time.Duration(max(l.calls, 1)) }

func (l load) rpcsPerCall() float64 { return float64(l.rpcs) / float64(max(l.calls, 1)) }

// poster sends prepared bodies to one sidecar over kept-alive connections.
type poster struct {
	sc     *loopback.Sidecar
	svc    *loopback.Services
	client *http.Client
}

func newPoster(sc *loopback.Sidecar, svc *loopback.Services) *poster {
	return &poster{sc: sc, svc: svc, client: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}}
}

// post sends one call and fails unless it Succeeded in this one exchange:
// a Running reply would mean the call took longer than serve's --wait.
func (p *poster) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.sc.URL+plugin.ExecutePath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.sc.Token)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(reply, []byte(`"phase":"Succeeded"`)) {
		return fmt.Errorf("reply %d: %.300s", resp.StatusCode, reply)
	}
	return nil
}

// run posts every body once, callers at a time, and measures the batch.
func (p *poster) run(ctx context.Context, bodies [][]byte, callers int) (load, error) {
	lat := make([]time.Duration, len(bodies))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	rpcs0 := totalRPCs(p.svc)
	cpu0, err := procstat.CPUTime(p.sc.Cmd.Process.Pid)
	if err != nil {
		return load{}, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				t0 := time.Now()
				if err := p.post(ctx, bodies[i]); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("call %d: %w", i, err) })
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return load{}, firstErr
	}
	cpu1, err := procstat.CPUTime(p.sc.Cmd.Process.Pid)
	if err != nil {
		return load{}, err
	}
	slices.Sort(lat)
	return load{calls: len(bodies), elapsed: elapsed, latencies: lat, cpu: cpu1 - cpu0, rpcs: totalRPCs(p.svc) - rpcs0}, nil
}

func totalRPCs(svc *loopback.Services) int {
	n := 0
	for _, c := range svc.MLMD.Server.Calls() {
		n += c
	}
	return n
}
