package httpserve

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunDrainsThenStops: a request in progress when the context ends still
// completes, drain runs first, and Run returns without error.
func TestRunDrainsThenStops(t *testing.T) {
	inRequest, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(inRequest)
		<-release
		w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var drained atomic.Bool
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, h, "127.0.0.1:0", "test", 5*time.Second, ready, func() { drained.Store(true) })
	}()
	addr := <-ready
	respc := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + addr)
		if err != nil {
			respc <- 0
			return
		}
		resp.Body.Close()
		respc <- resp.StatusCode
	}()
	<-inRequest
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for !drained.Load() {
		if time.Now().After(deadline) {
			t.Fatal("drain was not called after the context ended")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if code := <-respc; code != http.StatusOK {
		t.Fatalf("request in progress got %d, want 200", code)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRunReportsListenError(t *testing.T) {
	if err := Run(context.Background(), http.NotFoundHandler(), "256.0.0.1:1", "test", time.Second, nil, nil); err == nil {
		t.Fatal("want a listen error")
	}
}
