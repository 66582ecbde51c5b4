package webhook

import (
	"context"
	"fmt"
	"sync"

	"github.com/golang/glog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// ConfigMapSource keeps the admin's agent pod metadata from the plugin
// ConfigMap up to date through a watch on that one ConfigMap, parsed once
// per change rather than per admission. A missing ConfigMap means no
// metadata; an invalid one is reported to every admission until fixed
// (adding nothing silently would, e.g., leave agent pods out of the mesh).
type ConfigMapSource struct {
	informer cache.SharedIndexInformer

	mu  sync.RWMutex
	md  pluginconfig.PodMetadata
	err error
}

// NewConfigMapSource watches ConfigMap name in namespace.
func NewConfigMapSource(client dynamic.Interface, namespace, name string) *ConfigMapSource {
	only := func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
	}
	resource := client.Resource(configMaps).Namespace(namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			only(&o)
			return resource.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			only(&o)
			return resource.Watch(ctx, o)
		},
	}
	s := &ConfigMapSource{md: emptyMetadata()}
	s.informer = cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, 0, cache.Indexers{})
	_, _ = s.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.set,
		UpdateFunc: func(_, obj any) { s.set(obj) },
		DeleteFunc: func(any) { s.store(emptyMetadata(), nil, "deleted") },
	})
	return s
}

// Run watches until ctx is done.
func (s *ConfigMapSource) Run(ctx context.Context) { s.informer.RunWithContext(ctx) }

// Synced reports whether the first list has been seen.
func (s *ConfigMapSource) Synced() bool { return s.informer.HasSynced() }

// PodMetadata implements PodMetadataSource.
func (s *ConfigMapSource) PodMetadata() (pluginconfig.PodMetadata, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.md, s.err
}

func (s *ConfigMapSource) set(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	md, err := pluginconfig.ReadPodMetadata(u.GetAnnotations())
	if err != nil {
		err = fmt.Errorf("plugin ConfigMap %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	s.store(md, err, "resourceVersion "+u.GetResourceVersion())
}

func (s *ConfigMapSource) store(md pluginconfig.PodMetadata, err error, what string) {
	s.mu.Lock()
	s.md, s.err = md, err
	s.mu.Unlock()
	if err != nil {
		glog.Errorf("agent pod metadata: %v", err)
		return
	}
	glog.Infof("agent pod metadata (plugin ConfigMap %s): %d labels, %d annotations", what, len(md.Labels), len(md.Annotations))
}

func emptyMetadata() pluginconfig.PodMetadata {
	return pluginconfig.PodMetadata{Labels: map[string]string{}, Annotations: map[string]string{}}
}
