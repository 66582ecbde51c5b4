package convert

import "github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"

// mergePodMetadata adds the admin's labels and annotations to
// spec.podMetadata. A key the workflow already sets keeps its value: the
// pipeline author asked for it explicitly. Argo applies spec.podMetadata to
// every pod of the workflow, not only the agent pod; it is the only place
// that reaches the agent pod (template metadata and the plugin ConfigMap's
// own metadata do not).
// It reports whether a key was added.
func mergePodMetadata(spec map[string]any, md pluginconfig.PodMetadata) (bool, error) {
	if len(md.Labels) == 0 && len(md.Annotations) == 0 {
		return false, nil
	}
	pm, err := object(spec["podMetadata"], "spec.podMetadata")
	if err != nil {
		return false, err
	}
	changed := false
	for field, add := range map[string]map[string]string{"labels": md.Labels, "annotations": md.Annotations} {
		added, err := mergeStrings(pm, field, add)
		if err != nil {
			return false, err
		}
		changed = changed || added
	}
	if changed {
		spec["podMetadata"] = pm
	}
	return changed, nil
}

func mergeStrings(pm map[string]any, field string, add map[string]string) (bool, error) {
	if len(add) == 0 {
		return false, nil
	}
	have, err := object(pm[field], "spec.podMetadata."+field)
	if err != nil {
		return false, err
	}
	added := false
	for k, v := range add {
		if _, set := have[k]; !set {
			have[k] = v
			added = true
		}
	}
	if added {
		pm[field] = have
	}
	return added, nil
}
