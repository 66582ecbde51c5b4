package driverlog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// MaxLogBytes bounds one step's log: the pod spec patch is the only large
// part, and a log is for reading, not for reproducing it.
const MaxLogBytes = 64 << 10

// Recorder is a driver.Driver that keeps the log of every step decided by
// Next through Uploader.
type Recorder struct {
	Next     driver.Driver
	Uploader *Uploader
}

var _ driver.Driver = Recorder{}

// Run decides with Next, then queues the step's log; the result is Next's.
func (r Recorder) Run(ctx context.Context, req *driver.Request) (*driver.Result, error) {
	start := time.Now()
	res, err := r.Next.Run(ctx, req)
	if err == nil && res != nil && res.LogURI != "" {
		r.Uploader.Submit(res.LogURI, Render(req, res, start, time.Since(start)))
	}
	return res, err
}

// Render is a step's log: what was asked, what was decided, what Argo got.
func Render(req *driver.Request, res *driver.Result, start time.Time, took time.Duration) []byte {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("time: %s", start.UTC().Format(time.RFC3339Nano))
	line("driver: %s, task %q, namespace %s, run %s", req.Type, req.TaskName, req.Namespace, req.RunID)
	if req.IterationIndex >= 0 {
		line("iteration: %d", req.IterationIndex)
	}
	line("decision: %s", res.Message)
	line("execution-id: %d", res.ExecutionID)
	if res.IterationCount != nil {
		line("iteration-count: %d", *res.IterationCount)
	}
	if res.Condition != nil {
		line("condition: %t", *res.Condition)
	}
	if res.CachedDecision != nil {
		line("cached-decision: %t", *res.CachedDecision)
	}
	if res.PodSpecPatch != "" {
		line("pod-spec-patch: %s", res.PodSpecPatch)
	}
	line("took: %s", took.Round(time.Microsecond))
	out := b.String()
	if len(out) > MaxLogBytes {
		const cut = "\n[log cut at 64 KiB]\n"
		out = out[:MaxLogBytes-len(cut)] + cut
	}
	return []byte(out)
}
