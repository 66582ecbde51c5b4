package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/procstat"
)

// stats are the replies seen, by driver type and status.
type stats struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	statuses  map[int]int
	hostile   map[int]int

	hostileSucceeded atomic.Int64
	mismatches       atomic.Int64
	transportErrors  atomic.Int64
	runsDone         atomic.Int64
	calls            atomic.Int64
}

// maxSamples bounds the latency samples kept per type.
const maxSamples = 2_000_000

func newStats() *stats {
	return &stats{latencies: map[string][]time.Duration{}, statuses: map[int]int{}, hostile: map[int]int{}}
}

func (s *stats) observe(typ string, code int, d time.Duration) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[code]++
	if len(s.latencies[typ]) < maxSamples {
		s.latencies[typ] = append(s.latencies[typ], d)
	}
}

func (s *stats) observeHostile(code int, d time.Duration, succeeded bool) {
	s.calls.Add(1)
	if succeeded {
		s.hostileSucceeded.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostile[code]++
	if len(s.latencies["hostile"]) < maxSamples {
		s.latencies["hostile"] = append(s.latencies["hostile"], d)
	}
}

// badStatuses counts 5xx answers other than 503.
func (s *stats) badStatuses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range []map[int]int{s.statuses, s.hostile} {
		for code, c := range m {
			if code >= 500 && code != http.StatusServiceUnavailable {
				n += c
			}
		}
	}
	return n
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// sample is one look at the sidecar process.
type sample struct {
	at         time.Duration
	rssKiB     int64
	heapMiB    float64
	goroutines int
	calls      int64
}

// sampler looks at the sidecar every interval until ctx ends.
func sampler(ctx context.Context, pid int, metricsURL string, every time.Duration, st *stats, start time.Time) []sample {
	var out []sample
	take := func() {
		m := scrape(metricsURL, "go_goroutines", "go_memstats_heap_inuse_bytes")
		out = append(out, sample{at: time.Since(start), rssKiB: procstat.RSSKiB(pid), heapMiB: m[1] / (1 << 20), goroutines: int(m[0]), calls: st.calls.Load()})
	}
	take()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			take()
			return out
		case <-t.C:
			take()
		}
	}
}

// scrape reads the named unlabelled series from /metrics (-1 if absent).
func scrape(metricsURL string, names ...string) []float64 {
	out := make([]float64, len(names))
	for i := range out {
		out[i] = -1
	}
	resp, err := http.Get(metricsURL)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		for i, name := range names {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				out[i], _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return out
}

// duplicates counts executions that repeat one driver step: the same
// type and (parent DAG, task, iteration), or the same name.
func duplicates(ctx context.Context, mlmdAddr string) (total, dups int, err error) {
	conn, err := grpc.NewClient(mlmdAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	resp, err := pb.NewMetadataStoreServiceClient(conn).GetExecutions(ctx, &pb.GetExecutionsRequest{})
	if err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	for _, e := range resp.GetExecutions() {
		p := e.GetCustomProperties()
		step := fmt.Sprintf("%d/%d/%s/%d", e.GetTypeId(), p["parent_dag_id"].GetIntValue(), p["task_name"].GetStringValue(), iteration(p))
		if p["parent_dag_id"] == nil {
			step = "name:" + e.GetName()
		}
		if seen[step] || (e.GetName() != "" && seen["name:"+e.GetName()] && p["parent_dag_id"] != nil) {
			dups++
		}
		seen[step] = true
		seen["name:"+e.GetName()] = true
	}
	return len(resp.GetExecutions()), dups, nil
}

func iteration(p map[string]*pb.Value) int64 {
	if v, ok := p["iteration_index"]; ok {
		return v.GetIntValue()
	}
	return -1
}

func report(w io.Writer, st *stats, samples []sample, elapsed time.Duration, runs int64, total, dups int) {
	calls := st.calls.Load()
	fmt.Fprintf(w, "\nsoak: %s, %d pipeline runs, %d calls (%.0f calls/s), %d executions in MLMD, %d duplicates\n",
		elapsed.Round(time.Second), runs, calls, float64(calls)/elapsed.Seconds(), total, dups)
	st.mu.Lock()
	fmt.Fprintf(w, "replies by status: %v; hostile/malformed calls by status: %v\n", st.statuses, st.hostile)
	fmt.Fprintf(w, "%-10s %9s %10s %10s\n", "type", "calls", "p50", "p99")
	for _, typ := range []string{"ROOT_DAG", "DAG", "CONTAINER", "hostile"} {
		ds := slices.Clone(st.latencies[typ])
		slices.Sort(ds)
		fmt.Fprintf(w, "%-10s %9d %10s %10s\n", typ, len(ds), percentile(ds, .5).Round(10*time.Microsecond), percentile(ds, .99).Round(10*time.Microsecond))
	}
	st.mu.Unlock()
	fmt.Fprintf(w, "%-8s %10s %10s %11s %10s\n", "time", "RSS MiB", "heap MiB", "goroutines", "calls")
	for _, s := range samples {
		fmt.Fprintf(w, "%-8s %10.1f %10.1f %11d %10d\n", s.at.Round(time.Second), float64(s.rssKiB)/1024, s.heapMiB, s.goroutines, s.calls)
	}
	fmt.Fprintf(w, "hostile calls answered Succeeded: %d; 5xx other than 503: %d; differing replies to identical concurrent calls: %d; transport errors: %d\n",
		st.hostileSucceeded.Load(), st.badStatuses(), st.mismatches.Load(), st.transportErrors.Load())
}
