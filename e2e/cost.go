package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/procstat"
)

// Cost is what the cluster had spent at one moment: the difference of two
// snapshots is what a run cost the machine, Argo's controller and the API
// server (the benchmark runs one workflow at a time, so nothing else is
// counted in between).
type Cost struct {
	// ControllerCPU is the workflow-controller's user+system time.
	ControllerCPU time.Duration
	// MachineCPU is the busy time of all cores (pods, runtime, control
	// plane, test servers).
	MachineCPU time.Duration
	// Requests are the API server's apiserver_request_total by
	// "VERB resource" (e.g. "PUT workflows").
	Requests map[string]float64
}

// CostNow reads the controller's and the machine's CPU times and the API
// server's request counters.
func (s *Stack) CostNow(ctx context.Context) (Cost, error) {
	var c Cost
	var err error
	if c.ControllerCPU, err = procstat.CPUTime(s.Argo.Pid()); err != nil {
		return c, err
	}
	if c.MachineCPU, err = procstat.MachineBusy(); err != nil {
		return c, err
	}
	c.Requests, err = apiRequests(ctx, s.Cluster.RESTConfig)
	return c, err
}

// Since is c minus an earlier snapshot.
func (c Cost) Since(before Cost) Cost {
	d := Cost{ControllerCPU: c.ControllerCPU - before.ControllerCPU, MachineCPU: c.MachineCPU - before.MachineCPU,
		Requests: map[string]float64{}}
	for k, v := range c.Requests {
		if n := v - before.Requests[k]; n > 0 {
			d.Requests[k] = n
		}
	}
	return d
}

// Writes counts the create, update, patch and delete requests, of resource
// when it is not "".
func (c Cost) Writes(resource string) float64 {
	var n float64
	for k, v := range c.Requests {
		verb, res, _ := strings.Cut(k, " ")
		if (resource == "" || res == resource) && verb != "GET" && verb != "LIST" && verb != "WATCH" {
			n += v
		}
	}
	return n
}

// apiRequests reads apiserver_request_total from the API server's metrics,
// summed by verb and resource.
func apiRequests(ctx context.Context, cfg *rest.Config) (map[string]float64, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("API server metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("API server metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			return nil, fmt.Errorf("API server metrics: unreadable line %q", line)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("API server metrics: line %q: %w", line, err)
		}
		labels := line[len("apiserver_request_total{"):end]
		out[label(labels, "verb")+" "+label(labels, "resource")] += v
	}
	return out, sc.Err()
}

// label returns the value of name in a Prometheus label list (the API
// server's request labels hold no commas or quotes in their values).
func label(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
