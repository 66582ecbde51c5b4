package standin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallRetriesUnavailableHarness(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1, 2:
			http.Error(w, "starved", http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := call(ctx, func() (*http.Request, error) { return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil) })
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || calls.Load() != 3 {
		t.Errorf("got %d after %d calls, want 418 after 3", resp.StatusCode, calls.Load())
	}
}

func TestCallReturnsClientErrorsAtOnce(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad", http.StatusBadRequest)
	}))
	defer srv.Close()
	resp, err := call(context.Background(), func() (*http.Request, error) { return http.NewRequest(http.MethodGet, srv.URL, nil) })
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || calls.Load() != 1 {
		t.Errorf("got %d after %d calls, want 400 after 1", resp.StatusCode, calls.Load())
	}
}

func TestCallGivesUpWithTheContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for good", http.StatusBadGateway)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err := call(ctx, func() (*http.Request, error) { return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil) })
	if !errors.Is(err, errNoHarness) {
		t.Fatalf("err = %v, want errNoHarness", err)
	}
	if want := "down for good"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want the last answer %q in it", err, want)
	}
}
