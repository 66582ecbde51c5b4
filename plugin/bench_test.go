package plugin

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// BenchmarkExecuteOverhead measures the plugin's own cost per call (auth,
// decoding, dedupe, reply) with a driver that does nothing. Each iteration is
// a distinct call, so the run store starts a run every time. It reports p50
// and p99 next to the mean.
func BenchmarkExecuteOverhead(b *testing.B) {
	noop := driver.Func(func(_ context.Context, _ *driver.Request) (*driver.Result, error) {
		return &driver.Result{Message: "noop"}, nil
	})
	cfg := DefaultConfig()
	cfg.Driver, cfg.Auth, cfg.PodNamespace = noop, staticToken(testToken), "team-a"
	s := New(cfg)
	defer s.Close()
	bodies := make([][]byte, 512)
	for i := range bodies {
		bodies[i] = driverPluginBody(with(validArgs(), "iteration_index", i))
	}
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := bodies[i%len(bodies)]
		if i >= len(bodies) { // keep calls distinct past the prepared bodies
			body = driverPluginBody(with(validArgs(), "run_id", i))
		}
		req := httptest.NewRequest(http.MethodPost, ExecutePath, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		start := time.Now()
		s.ServeHTTP(rec, req)
		samples = append(samples, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds()), "p99-us")
}

type staticToken string

func (t staticToken) Check(h string) (bool, error) { return h == "Bearer "+string(t), nil }
