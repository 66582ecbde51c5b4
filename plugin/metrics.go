package plugin

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the plugin's Prometheus series, on a registry of its own so
// tests and several servers in one process never collide.
type Metrics struct {
	Registry *prometheus.Registry
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
	logs     *prometheus.CounterVec
}

// NewMetrics creates and registers the plugin's series.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kfp_driver_plugin_calls_total",
			Help: "template.execute calls answered, by driver type and node phase (declined: not a driver-plugin template; denied: bad token).",
		}, []string{"type", "phase"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kfp_driver_plugin_call_duration_seconds",
			Help:    "Time to answer a template.execute call, by driver type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"type"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kfp_driver_plugin_runs_in_flight",
			Help: "Driver runs currently executing.",
		}),
		logs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kfp_driver_plugin_driver_logs_total",
			Help: "Driver logs kept in the object store, by outcome (uploaded, failed, dropped: queue full, unsupported: not an s3:// or minio:// root).",
		}, []string{"outcome"}),
	}
	m.Registry.MustRegister(m.calls, m.latency, m.inflight, m.logs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// DriverLog counts one driver log's outcome (driverlog's observer).
func (m *Metrics) DriverLog(outcome string) { m.logs.WithLabelValues(outcome).Inc() }

func (m *Metrics) observe(driverType, phase string, seconds float64) {
	m.calls.WithLabelValues(driverType, phase).Inc()
	m.latency.WithLabelValues(driverType).Observe(seconds)
}
