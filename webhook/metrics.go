package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the webhook's Prometheus metrics.
type Metrics struct {
	Registry   *prometheus.Registry
	admissions *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

// NewMetrics registers the webhook's metrics on a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		admissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kfp_driver_plugin_webhook_admissions_total",
			Help: "Admission reviews answered, by kind (workflow, pod) and outcome (patched, unchanged, opted_out, native_line, invalid).",
		}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kfp_driver_plugin_webhook_admission_duration_seconds",
			Help:    "Time to answer one admission review, by kind.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.admissions, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(kind, outcome string, d time.Duration) {
	m.admissions.WithLabelValues(kind, outcome).Inc()
	m.latency.WithLabelValues(kind).Observe(d.Seconds())
}
