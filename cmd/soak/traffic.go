package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/loopback"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/plugin/plugintest"
)

// namespace is the sidecar's and every call's namespace.
const namespace = "kubeflow-user"

// soakSpecs are the real specs walked, chosen for variety: plain tasks,
// loops, conditions, nested DAGs, artifacts and cache look-ups.
var soakSpecs = []string{
	"add_numbers.yaml", "two_step_pipeline.yaml", "pipeline_with_loops.yaml", "parameter_cache.yaml",
	"if_elif_else_complex.yaml", "pipeline_in_pipeline_complex.yaml", "collected_artifacts.yaml",
}

// forwarder is an http.Handler that sends each call to the real sidecar
// over loopback and records its latency by driver type; every 8th call is
// also sent a second time concurrently, and the two replies must match.
type forwarder struct {
	url, token string
	client     *http.Client
	stats      *stats
	n          atomic.Int64
}

var typeRe = regexp.MustCompile(`"type":"(ROOT_DAG|DAG|CONTAINER)"`)

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	typ := "unknown"
	if m := typeRe.FindSubmatch(body); m != nil {
		typ = string(m[1])
	}
	if f.n.Add(1)%8 == 0 {
		f.twice(w, body, typ)
		return
	}
	code, reply, err := f.post(body, typ)
	writeBack(w, code, reply, err)
}

func (f *forwarder) twice(w http.ResponseWriter, body []byte, typ string) {
	var wg sync.WaitGroup
	var codes [2]int
	var replies [2][]byte
	var errs [2]error
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i], replies[i], errs[i] = f.post(body, typ) }()
	}
	wg.Wait()
	if errs[0] == nil && errs[1] == nil && !bytes.Equal(replies[0], replies[1]) &&
		!bytes.Contains(replies[0], []byte(`"Running"`)) && !bytes.Contains(replies[1], []byte(`"Running"`)) {
		f.stats.mismatches.Add(1)
	}
	writeBack(w, codes[0], replies[0], errs[0])
}

func (f *forwarder) post(body []byte, typ string) (int, []byte, error) {
	req, _ := http.NewRequest(http.MethodPost, f.url+plugin.ExecutePath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	start := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		f.stats.transportErrors.Add(1)
		return 0, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	f.stats.observe(typ, resp.StatusCode, time.Since(start))
	return resp.StatusCode, reply, err
}

func writeBack(w http.ResponseWriter, code int, reply []byte, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(code)
	w.Write(reply)
}

// traffic runs the callers until ctx ends or maxRuns runs were started.
type traffic struct {
	o        options
	sc       *loopback.Sidecar
	drv      driver.Driver
	walkers  func(p *drivertest.Pipeline, runID string) *drivertest.Walker
	specs    []*drivertest.Pipeline
	hostile  [][]byte
	stats    *stats
	runs     atomic.Int64
	failures atomic.Int64
	firstErr atomic.Value
}

func loadSpecs(dir string) ([]*drivertest.Pipeline, error) {
	var out []*drivertest.Pipeline
	for _, name := range soakSpecs {
		p, err := drivertest.Load(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (t *traffic) caller(ctx context.Context) {
	for i := 1; ctx.Err() == nil; i++ {
		n := t.runs.Add(1)
		if n > t.o.maxRuns {
			return
		}
		p := t.specs[int(n)%len(t.specs)]
		w := t.walkers(p, fmt.Sprintf("soak-%d", n))
		w.Driver, w.Produce, w.Repeat = t.drv, drivertest.Produce, true
		if _, err := w.Run(ctx, p); err != nil && ctx.Err() == nil {
			t.failures.Add(1)
			t.firstErr.CompareAndSwap(nil, fmt.Sprintf("run soak-%d (%s): %v", n, p.Spec.GetPipelineInfo().GetName(), err))
		}
		t.stats.runsDone.Add(1)
		if i%t.o.badEvery == 0 {
			t.sendHostile(ctx)
		}
	}
}

// sendHostile sends every hostile call once: malformed JSON, a wrong
// token, GET, and calls whose arguments are invalid or name what a
// template may not (another endpoint, a CA path, a path escape, a huge
// value, a body over the limit). None may be answered Succeeded or with a
// 5xx other than 503.
func (t *traffic) sendHostile(ctx context.Context) {
	client := &http.Client{Timeout: 40 * time.Second}
	send := func(method, token string, body []byte) {
		req, _ := http.NewRequestWithContext(ctx, method, t.sc.URL+plugin.ExecutePath, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				t.stats.transportErrors.Add(1)
			}
			return
		}
		reply, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.stats.observeHostile(resp.StatusCode, time.Since(start), bytes.Contains(reply, []byte(`"Succeeded"`)))
	}
	send(http.MethodPost, t.sc.Token, []byte("{"))
	send(http.MethodPost, "wrong-token", t.hostile[0])
	send(http.MethodGet, t.sc.Token, nil)
	for _, b := range t.hostile {
		send(http.MethodPost, t.sc.Token, b)
	}
}

// hostileBodies are ROOT_DAG calls of add_numbers with one bad argument each.
func hostileBodies(p *drivertest.Pipeline, base driver.Request) ([][]byte, error) {
	root := base
	root.Type, root.Component, root.RunID = driver.RootDAG, p.Spec.GetRoot(), "hostile"
	root.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{
		"a": structpb.NewNumberValue(1), "b": structpb.NewNumberValue(2)}}
	mutations := []func(*driver.Request){
		func(r *driver.Request) { r.Options.MLMDAddress = "10.0.0.1" },
		func(r *driver.Request) { r.Options.MLPipelineAddress = "kubernetes.default.svc" },
		func(r *driver.Request) { r.Options.CACertPath, r.Options.MetadataTLS = "/dev/zero", true },
		func(r *driver.Request) { r.PipelineName = "../../../../evil" },
		func(r *driver.Request) { r.PipelineName = strings.Repeat("x", 1<<20) },
		func(r *driver.Request) { r.RunDisplayName = strings.Repeat("y", plugin.DefaultMaxBodyBytes) },
		func(r *driver.Request) { r.Type = "PIPELINE" },
		func(r *driver.Request) { r.DAGExecutionID = 5 },
	}
	var out [][]byte
	for _, m := range mutations {
		r := root
		m(&r)
		b, err := plugintest.Body(&r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// httpDriver follows Running + requeue through the forwarder.
func httpDriver(f *forwarder, token string) driver.Driver {
	return &plugintest.HTTPDriver{Handler: f, Token: token, Timeout: 2 * time.Minute}
}
