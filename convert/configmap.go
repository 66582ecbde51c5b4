package convert

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// PodMetadataFromConfigMap reads the admin's driver pod labels and
// annotations from a plugin ConfigMap (YAML or JSON, as `kfp-driver-plugin
// configmap` renders it).
func PodMetadataFromConfigMap(b []byte) (pluginconfig.PodMetadata, error) {
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(b, &cm); err != nil {
		return pluginconfig.PodMetadata{}, fmt.Errorf("plugin ConfigMap: %w", err)
	}
	// Another ConfigMap would carry no pod metadata and the labels would be
	// missing without a word.
	if cm.Kind != "ConfigMap" || cm.Labels[pluginconfig.ConfigMapTypeLabel] != "ExecutorPlugin" {
		return pluginconfig.PodMetadata{}, fmt.Errorf("plugin ConfigMap: want a ConfigMap labelled %s=ExecutorPlugin, got kind %q %q", pluginconfig.ConfigMapTypeLabel, cm.Kind, cm.Name)
	}
	md, err := pluginconfig.ReadPodMetadata(cm.Annotations)
	if err != nil {
		return pluginconfig.PodMetadata{}, fmt.Errorf("plugin ConfigMap %q: %w", cm.Name, err)
	}
	return md, nil
}
