// Package pipelineroot decides where a run's artifacts go: the pipeline
// root (from the run's runtime config, else the namespace's kfp-launcher
// ConfigMap, else KFP's default) and the object-store session info the
// launcher opens the bucket with (from the ConfigMap's providers).
package pipelineroot

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
)

// ConfigMapName is the per-namespace launcher configuration KFP reads.
const ConfigMapName = "kfp-launcher"

// DefaultRoot is KFP's root when neither the run nor the ConfigMap sets one.
const DefaultRoot = "minio://mlpipeline/v2/artifacts"

// Config is the kfp-launcher ConfigMap's data; empty when it is missing.
type Config struct {
	DefaultPipelineRoot string
	Providers           string // YAML
}

// Load reads the kfp-launcher ConfigMap of namespace. A missing ConfigMap
// is an empty config, as in KFP; any other failure is returned.
func Load(ctx context.Context, k kube.Interface, namespace string) (Config, error) {
	if k == nil {
		return Config{}, nil
	}
	cm, err := k.GetConfigMap(ctx, namespace, ConfigMapName)
	if apierrors.IsNotFound(err) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("reading ConfigMap %s/%s: %w", namespace, ConfigMapName, err)
	}
	return Config{DefaultPipelineRoot: cm.Data["defaultPipelineRoot"], Providers: cm.Data["providers"]}, nil
}

// Resolve picks the pipeline root (the run's own, else the config's, else
// DefaultRoot) and its session info JSON.
func Resolve(runRoot string, cfg Config) (root, session string, err error) {
	root = runRoot
	if root == "" {
		root = cfg.DefaultPipelineRoot
	}
	if root == "" {
		root = DefaultRoot
	}
	info, err := sessionInfo(root, cfg.Providers)
	if err != nil {
		return "", "", fmt.Errorf("pipeline root %q: %w", root, err)
	}
	b, err := json.Marshal(info)
	if err != nil {
		return "", "", err
	}
	return root, string(b), nil
}

// ForRun is the run-level root: <root>/<pipeline>/<run>, query kept.
func ForRun(root, pipelineName, runID string) string {
	base, query, hasQuery := strings.Cut(root, "?")
	scheme, rest, ok := strings.Cut(strings.TrimRight(base, "/"), "://")
	if ok {
		base = scheme + "://" + path.Clean(rest+"/"+pipelineName+"/"+runID)
	} else {
		base = path.Clean(base + "/" + pipelineName + "/" + runID)
	}
	if hasQuery {
		base += "?" + query
	}
	return base
}

// bucket is a parsed root: scheme://bucket[/prefix][?query].
type bucket struct {
	scheme, name, prefix, query string
}

func parseRoot(root string) (bucket, error) {
	scheme, rest, ok := strings.Cut(root, "://")
	if !ok || rest == "" {
		return bucket{}, fmt.Errorf("want scheme://bucket[/prefix]")
	}
	rest, query, _ := strings.Cut(rest, "?")
	name, prefix, _ := strings.Cut(rest, "/")
	if name == "" {
		return bucket{}, fmt.Errorf("no bucket name")
	}
	return bucket{scheme: scheme, name: name, prefix: prefix, query: query}, nil
}
