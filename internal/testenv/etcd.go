package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// startEtcd runs a single-member etcd on two free loopback ports and waits
// until its /health endpoint reports healthy.
func (c *Cluster) startEtcd(ctx context.Context) error {
	return retryOnPortClash(func() (*Process, error) {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		// A fresh data dir per attempt: etcd records its peer URL in it.
		dataDir := filepath.Join(c.Dir, "etcd")
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, fmt.Errorf("etcd data dir: %w", err)
		}
		client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		args := []string{
			"--name=testenv",
			"--data-dir=" + dataDir,
			"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=testenv=" + peer,
			// Test data is disposable: skip fsync, it dominates etcd latency.
			"--unsafe-no-fsync",
			"--log-level=warn",
		}
		p, err := c.start(Etcd, args, nil)
		if err != nil {
			return nil, err
		}
		c.EtcdURL = client
		return p, pollUntil(ctx, "etcd health", p, func(ctx context.Context) (bool, error) {
			return etcdHealthy(ctx, client)
		})
	})
}

func etcdHealthy(ctx context.Context, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	healthy := resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`)
	if !healthy {
		return false, fmt.Errorf("etcd /health: %d %s", resp.StatusCode, body)
	}
	return true, nil
}

// retryOnPortClash reruns start when the process died because a port picked
// by freePorts was taken in between (parallel test packages race for ports).
func retryOnPortClash(start func() (*Process, error)) error {
	const attempts = 3
	var err error
	for range attempts {
		var p *Process
		p, err = start()
		if err == nil || p == nil || !p.LogContains("address already in use") {
			return err
		}
		_ = p.Stop(0)
	}
	return err
}
