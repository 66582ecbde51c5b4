package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// harnessURL is the harness's base URL as pods resolve it.
func harnessURL(path string) string {
	return "http://" + net.JoinHostPort(HarnessService+"."+HarnessNamespace+".svc.cluster.local", HarnessPort) + path
}

var client = &http.Client{}

// call sends the request newReq builds and returns the response, retrying
// while the harness cannot be reached or answers 5xx (a starved test
// process under a full suite), until ctx ends. newReq is called per attempt
// so that a body can be read again.
func call(ctx context.Context, newReq func() (*http.Request, error)) (*http.Response, error) {
	wait := 250 * time.Millisecond
	for {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		retry := err != nil || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusInsufficientStorage)
		if !retry {
			return resp, nil
		}
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			err = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v (until %v)", errNoHarness, err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// ask sends the query and decodes the answer.
func ask(ctx context.Context, q Query) (*Answer, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	resp, err := call(ctx, func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, harnessURL(PathBehaviour), bytes.NewReader(body))
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("harness: %s: %s", resp.Status, b)
	}
	var a Answer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("harness answer: %w", err)
	}
	return &a, nil
}

func artifactURL(uri string) string {
	return harnessURL(PathArtifacts) + "?uri=" + url.QueryEscape(uri)
}

// download fetches the artifact at uri to path. An artifact nobody
// uploaded (its producer's user code could not run here) becomes a file
// holding its URI, so that a real consumer command still has something to
// read.
func download(ctx context.Context, uri, path string) error {
	resp, err := call(ctx, func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, artifactURL(uri), nil)
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		return os.WriteFile(path, []byte(uri), 0o644)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", uri, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func upload(ctx context.Context, uri, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	resp, err := call(ctx, func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPut, artifactURL(uri), bytes.NewReader(b))
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("upload %s: %s", uri, resp.Status)
	}
	return nil
}
