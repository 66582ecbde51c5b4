package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
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

// clockTicks is USER_HZ, the unit of /proc's CPU times on Linux.
const clockTicks = 100

// CostNow reads the controller's and the machine's CPU times and the API
// server's request counters.
func (s *Stack) CostNow(ctx context.Context) (Cost, error) {
	var c Cost
	var err error
	if c.ControllerCPU, err = processCPU(s.Argo.Pid()); err != nil {
		return c, err
	}
	if c.MachineCPU, err = machineBusy(); err != nil {
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

// processCPU is /proc/<pid>/stat's utime+stime.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count fields after it.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime (fields 14 and 15)
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// machineBusy is /proc/stat's all-core time minus idle and iowait.
func machineBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
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
