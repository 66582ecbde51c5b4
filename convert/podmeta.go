package convert

import "github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"

// mergePodMetadata adds the admin's labels and annotations to
// spec.podMetadata. A key the workflow already sets keeps its value: the
// pipeline author asked for it explicitly. Argo applies spec.podMetadata to
// every pod of the workflow, not only the agent pod; it is the only place
// that reaches the agent pod (template metadata and the plugin ConfigMap's
// own metadata do not).
func mergePodMetadata(spec map[string]any, md pluginconfig.PodMetadata) error {
	if len(md.Labels) == 0 && len(md.Annotations) == 0 {
		return nil
	}
	pm, err := object(spec["podMetadata"], "spec.podMetadata")
	if err != nil {
		return err
	}
	for field, add := range map[string]map[string]string{"labels": md.Labels, "annotations": md.Annotations} {
		if err := mergeStrings(pm, field, add); err != nil {
			return err
		}
	}
	spec["podMetadata"] = pm
	return nil
}

func mergeStrings(pm map[string]any, field string, add map[string]string) error {
	if len(add) == 0 {
		return nil
	}
	have, err := object(pm[field], "spec.podMetadata."+field)
	if err != nil {
		return err
	}
	for k, v := range add {
		if _, set := have[k]; !set {
			have[k] = v
		}
	}
	pm[field] = have
	return nil
}
