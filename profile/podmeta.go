package profile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/golang/glog"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Files of the pod metadata directory: the plugin ConfigMap's two pod
// metadata annotations, copied by the manifests into a ConfigMap whose keys
// cannot contain "/" (hence the names without the prefix).
var (
	LabelsFile      = strings.TrimPrefix(pluginconfig.PodLabelsAnnotation, "pipelines.kubeflow.org/")
	AnnotationsFile = strings.TrimPrefix(pluginconfig.PodAnnotationsAnnotation, "pipelines.kubeflow.org/")
)

// PodMetadataSource reads the agent pod metadata from a mounted directory on
// every sync, parsing again only when the bytes changed. Kubernetes updates
// a mounted ConfigMap in place, so an admin's change reaches every
// namespace on its next resync without restarting the controller.
type PodMetadataSource struct {
	dir string

	mu     sync.Mutex
	labels []byte
	annots []byte
	md     pluginconfig.PodMetadata
	loaded bool
}

// NewPodMetadataSource reads dir; an empty dir means no metadata.
func NewPodMetadataSource(dir string) *PodMetadataSource {
	return &PodMetadataSource{dir: dir}
}

// Load returns the current metadata with reserved keys dropped (by
// pluginconfig.ReadPodMetadata). An unreadable or invalid file is an error:
// applying no metadata instead would, e.g., strip Istio injection from every
// new agent pod.
func (p *PodMetadataSource) Load() (pluginconfig.PodMetadata, error) {
	if p.dir == "" {
		return pluginconfig.PodMetadata{Labels: map[string]string{}, Annotations: map[string]string{}}, nil
	}
	labels, err := p.read(LabelsFile)
	if err != nil {
		return pluginconfig.PodMetadata{}, err
	}
	annots, err := p.read(AnnotationsFile)
	if err != nil {
		return pluginconfig.PodMetadata{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loaded && bytes.Equal(labels, p.labels) && bytes.Equal(annots, p.annots) {
		return p.md, nil
	}
	md, err := pluginconfig.ReadPodMetadata(map[string]string{
		pluginconfig.PodLabelsAnnotation:      string(labels),
		pluginconfig.PodAnnotationsAnnotation: string(annots),
	})
	if err != nil {
		return pluginconfig.PodMetadata{}, fmt.Errorf("plugin pod metadata in %s: %w", p.dir, err)
	}
	p.labels, p.annots, p.md, p.loaded = labels, annots, md, true
	glog.Infof("plugin pod metadata loaded from %s: %d labels, %d annotations", p.dir, len(md.Labels), len(md.Annotations))
	return md, nil
}

func (p *PodMetadataSource) read(file string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, file))
	if err != nil {
		return nil, fmt.Errorf("plugin pod metadata: %w", err)
	}
	return bytes.TrimSpace(b), nil
}
