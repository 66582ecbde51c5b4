package platform

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// applyNodeSelector sets the pod's node selector from nodeSelectorJson (a
// parameter, e.g. a pipeline input dict) or else from the static labels.
// Existing keys are kept unless the config sets them.
func (a *applier) applyNodeSelector(c *execConfig) error {
	ns := c.NodeSelector
	if ns == nil {
		return nil
	}
	labels, field := ns.Labels, "nodeSelector.labels"
	if ns.NodeSelectorJSON != nil && ns.NodeSelectorJSON.spec != nil {
		field = "nodeSelector.nodeSelectorJson"
		v, err := a.resolve(field, ns.NodeSelectorJSON.spec)
		if a.skipped("nodeSelector", err) {
			return nil
		}
		if err != nil {
			return err
		}
		if labels, err = stringMap(field, v); err != nil {
			return err
		}
	}
	if err := checkLabels(field, labels); err != nil {
		return err
	}
	if len(labels) == 0 {
		return nil // any node: nothing to patch
	}
	if a.spec.NodeSelector == nil {
		a.spec.NodeSelector = map[string]string{}
	}
	for k, v := range labels {
		a.spec.NodeSelector[k] = v
	}
	a.sum.add("node selector")
	return nil
}

func stringMap(field string, v *structpb.Value) (map[string]string, error) {
	s := v.GetStructValue()
	if s == nil {
		return nil, fieldErr(field, "must resolve to an object of strings, got %s", valueKind(v))
	}
	out := make(map[string]string, len(s.GetFields()))
	for k, f := range s.GetFields() {
		str, ok := f.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return nil, fieldErr(field, "value of %q must be a string, got %s", k, valueKind(f))
		}
		out[k] = str.StringValue
	}
	return out, nil
}

// checkLabels applies the API server's rules for node selector labels.
func checkLabels(field string, labels map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fieldErr(field, "key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			return fieldErr(field, "value of %q: %s", k, strings.Join(errs, "; "))
		}
	}
	return nil
}

// applyTolerations appends static tolerations and those given as JSON (one
// object, or a list; empty ones are ignored, as in KFP).
func (a *applier) applyTolerations(c *execConfig) error {
	n := 0
	for i, t := range c.Tolerations {
		field := at("tolerations", i)
		tols, err := a.tolerations(field, t)
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		for _, tol := range tols {
			if err := checkToleration(field, tol); err != nil {
				return err
			}
		}
		a.spec.Tolerations = append(a.spec.Tolerations, tols...)
		n += len(tols)
	}
	a.sum.addCount(n, "toleration", "tolerations", "")
	return nil
}

func (a *applier) tolerations(field string, t toleration) ([]corev1.Toleration, error) {
	if t.TolerationJSON == nil || t.TolerationJSON.spec == nil {
		tol := corev1.Toleration{Key: t.Key, Operator: corev1.TolerationOperator(t.Operator), Value: t.Value, Effect: corev1.TaintEffect(t.Effect)}
		if t.TolerationSeconds != nil {
			tol.TolerationSeconds = ptr(int64(*t.TolerationSeconds))
		}
		return []corev1.Toleration{tol}, nil
	}
	field += ".tolerationJson"
	v, err := a.resolve(field, t.TolerationJSON.spec)
	if err != nil {
		return nil, err
	}
	switch {
	case v.GetStructValue() != nil:
		if len(v.GetStructValue().GetFields()) == 0 {
			return nil, nil
		}
		var tol corev1.Toleration
		if err := decodeStrict(field, "toleration", v, &tol); err != nil {
			return nil, err
		}
		return []corev1.Toleration{tol}, nil
	case v.GetListValue() != nil:
		var tols []corev1.Toleration
		if err := decodeStrict(field, "list of tolerations", v, &tols); err != nil {
			return nil, err
		}
		return tols, nil
	}
	return nil, fieldErr(field, "must resolve to a toleration object or a list of them, got %s", valueKind(v))
}

// decodeStrict decodes a resolved JSON parameter into a Kubernetes type.
// Unknown fields are errors: a misspelt key would otherwise vanish.
func decodeStrict(field, what string, v *structpb.Value, out any) error {
	b, err := v.MarshalJSON()
	if err != nil {
		return fieldErr(field, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fieldErr(field, "not a valid %s: %v", what, err)
	}
	return nil
}

// checkToleration applies the API server's rules, so that a bad toleration
// fails the driver step with the field name instead of the pod creation.
func checkToleration(field string, t corev1.Toleration) error {
	if t.Key != "" {
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			return fieldErr(field+".key", "%q: %s", t.Key, strings.Join(errs, "; "))
		}
	}
	switch t.Operator {
	case corev1.TolerationOpExists:
		if t.Value != "" {
			return fieldErr(field+".value", "must be empty when operator is Exists")
		}
	case corev1.TolerationOpEqual, "":
		if t.Key == "" {
			return fieldErr(field+".operator", "must be Exists when key is empty")
		}
		if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
			return fieldErr(field+".value", "%q: %s", t.Value, strings.Join(errs, "; "))
		}
	default:
		return fieldErr(field+".operator", "unsupported value %q: must be Equal or Exists", t.Operator)
	}
	switch t.Effect {
	case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		return fieldErr(field+".effect", "unsupported value %q: must be NoSchedule, PreferNoSchedule or NoExecute", t.Effect)
	}
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		return fieldErr(field+".tolerationSeconds", "is only valid with effect NoExecute")
	}
	return nil
}
