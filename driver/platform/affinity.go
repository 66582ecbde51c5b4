package platform

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// applyNodeAffinity collects node affinity terms as KFP does: a static term
// (matchExpressions + matchFields) is preferred when it has a weight and
// required otherwise; nodeAffinityJson contributes the required and preferred
// terms of a whole NodeAffinity. Required terms are ORed by Kubernetes.
func (a *applier) applyNodeAffinity(c *execConfig) error {
	var na corev1.NodeAffinity
	for i, t := range c.NodeAffinity {
		field := at("nodeAffinity", i)
		part, err := a.nodeAffinity(field, t)
		if a.skipped(field, err) {
			continue
		}
		if err != nil {
			return err
		}
		mergeNodeAffinity(&na, part)
	}
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil && len(na.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return nil
	}
	if a.spec.Affinity == nil {
		a.spec.Affinity = &corev1.Affinity{}
	}
	if a.spec.Affinity.NodeAffinity == nil {
		a.spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	mergeNodeAffinity(a.spec.Affinity.NodeAffinity, &na)
	a.sum.add("node affinity")
	return nil
}

// nodeAffinity converts one config entry; nil means "nothing to add".
func (a *applier) nodeAffinity(field string, t nodeAffinityTerm) (*corev1.NodeAffinity, error) {
	if t.NodeAffinityJSON != nil && t.NodeAffinityJSON.spec != nil {
		return a.nodeAffinityJSON(field+".nodeAffinityJson", t)
	}
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		a.sum.warn("ignored empty %s", field)
		return nil, nil
	}
	term := corev1.NodeSelectorTerm{
		MatchExpressions: nodeRequirements(t.MatchExpressions),
		MatchFields:      nodeRequirements(t.MatchFields),
	}
	if err := checkNodeTerm(field, term); err != nil {
		return nil, err
	}
	if t.Weight == nil {
		return &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{term},
		}}, nil
	}
	if err := checkWeight(field+".weight", int32(*t.Weight)); err != nil {
		return nil, err
	}
	return &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
		{Weight: int32(*t.Weight), Preference: term},
	}}, nil
}

func (a *applier) nodeAffinityJSON(field string, t nodeAffinityTerm) (*corev1.NodeAffinity, error) {
	v, err := a.resolve(field, t.NodeAffinityJSON.spec)
	if err != nil {
		return nil, err
	}
	if v.GetStructValue() == nil {
		return nil, fieldErr(field, "must resolve to a NodeAffinity object, got %s", valueKind(v))
	}
	na := &corev1.NodeAffinity{}
	if err := decodeStrict(field, "NodeAffinity", v, na); err != nil {
		return nil, err
	}
	if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
		for i, term := range req.NodeSelectorTerms {
			if err := checkNodeTerm(fmt.Sprintf("%s.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[%d]", field, i), term); err != nil {
				return nil, err
			}
		}
	}
	for i, p := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		pf := fmt.Sprintf("%s.preferredDuringSchedulingIgnoredDuringExecution[%d]", field, i)
		if err := checkWeight(pf+".weight", p.Weight); err != nil {
			return nil, err
		}
		if err := checkNodeTerm(pf+".preference", p.Preference); err != nil {
			return nil, err
		}
	}
	return na, nil
}

func mergeNodeAffinity(dst, src *corev1.NodeAffinity) {
	if src == nil {
		return
	}
	if req := src.RequiredDuringSchedulingIgnoredDuringExecution; req != nil && len(req.NodeSelectorTerms) > 0 {
		if dst.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			dst.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
		}
		dst.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(
			dst.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, req.NodeSelectorTerms...)
	}
	dst.PreferredDuringSchedulingIgnoredDuringExecution = append(
		dst.PreferredDuringSchedulingIgnoredDuringExecution, src.PreferredDuringSchedulingIgnoredDuringExecution...)
}

func nodeRequirements(reqs []selectorRequirement) []corev1.NodeSelectorRequirement {
	var out []corev1.NodeSelectorRequirement
	for _, r := range reqs {
		out = append(out, corev1.NodeSelectorRequirement{Key: r.Key, Operator: corev1.NodeSelectorOperator(r.Operator), Values: r.Values})
	}
	return out
}

// checkNodeTerm applies the API server's rules for node selector
// requirements (operator and number of values).
func checkNodeTerm(field string, term corev1.NodeSelectorTerm) error {
	for i, r := range term.MatchExpressions {
		if err := checkRequirement(at(field+".matchExpressions", i), r.Key, string(r.Operator), r.Values, true); err != nil {
			return err
		}
	}
	for i, r := range term.MatchFields {
		if err := checkRequirement(at(field+".matchFields", i), r.Key, string(r.Operator), r.Values, true); err != nil {
			return err
		}
	}
	return nil
}

// checkRequirement checks one selector requirement; numeric allows the node
// selector operators Gt and Lt, which label selectors lack.
func checkRequirement(field, key, op string, values []string, numeric bool) error {
	if key == "" {
		return fieldErr(field+".key", "is required")
	}
	switch {
	case op == "In" || op == "NotIn":
		if len(values) == 0 {
			return fieldErr(field+".values", "must not be empty for operator %s", op)
		}
	case op == "Exists" || op == "DoesNotExist":
		if len(values) > 0 {
			return fieldErr(field+".values", "must be empty for operator %s", op)
		}
	case numeric && (op == "Gt" || op == "Lt"):
		if len(values) != 1 {
			return fieldErr(field+".values", "must hold exactly one integer for operator %s", op)
		}
		if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			return fieldErr(field+".values", "%q is not an integer", values[0])
		}
	default:
		want := "In, NotIn, Exists or DoesNotExist"
		if numeric {
			want = "In, NotIn, Exists, DoesNotExist, Gt or Lt"
		}
		return fieldErr(field+".operator", "unsupported value %q: must be %s", op, want)
	}
	return nil
}

func checkWeight(field string, w int32) error {
	if w < 1 || w > 100 {
		return fieldErr(field, "%d: must be between 1 and 100", w)
	}
	return nil
}

// applyPodAffinity maps podAffinity terms, which KFP's driver ignores (see
// doc.go): a term with a weight is preferred, otherwise required; anti puts
// it under podAntiAffinity.
func (a *applier) applyPodAffinity(c *execConfig) error {
	for i, t := range c.PodAffinity {
		if err := a.addPodAffinityTerm(at("podAffinity", i), t); err != nil {
			return err
		}
	}
	a.sum.addCount(len(c.PodAffinity), "pod affinity term", "pod affinity terms", "")
	return nil
}

func (a *applier) addPodAffinityTerm(field string, t podAffinityTerm) error {
	term, err := podTerm(field, t)
	if err != nil {
		return err
	}
	if a.spec.Affinity == nil {
		a.spec.Affinity = &corev1.Affinity{}
	}
	required, preferred := a.podAffinityLists(t.Anti != nil && *t.Anti)
	if t.Weight == nil {
		*required = append(*required, term)
		return nil
	}
	if err := checkWeight(field+".weight", int32(*t.Weight)); err != nil {
		return err
	}
	*preferred = append(*preferred, corev1.WeightedPodAffinityTerm{Weight: int32(*t.Weight), PodAffinityTerm: term})
	return nil
}

// podAffinityLists returns the required and preferred lists of the pod's
// podAffinity or podAntiAffinity, creating it.
func (a *applier) podAffinityLists(anti bool) (*[]corev1.PodAffinityTerm, *[]corev1.WeightedPodAffinityTerm) {
	if anti {
		if a.spec.Affinity.PodAntiAffinity == nil {
			a.spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
		}
		p := a.spec.Affinity.PodAntiAffinity
		return &p.RequiredDuringSchedulingIgnoredDuringExecution, &p.PreferredDuringSchedulingIgnoredDuringExecution
	}
	if a.spec.Affinity.PodAffinity == nil {
		a.spec.Affinity.PodAffinity = &corev1.PodAffinity{}
	}
	p := a.spec.Affinity.PodAffinity
	return &p.RequiredDuringSchedulingIgnoredDuringExecution, &p.PreferredDuringSchedulingIgnoredDuringExecution
}

func podTerm(field string, t podAffinityTerm) (corev1.PodAffinityTerm, error) {
	if t.TopologyKey == "" {
		return corev1.PodAffinityTerm{}, fieldErr(field+".topologyKey", "is required")
	}
	if errs := validation.IsQualifiedName(t.TopologyKey); len(errs) > 0 {
		return corev1.PodAffinityTerm{}, fieldErr(field+".topologyKey", "%q: %s", t.TopologyKey, strings.Join(errs, "; "))
	}
	pods, err := labelSelector(field, "matchPodLabels", "matchPodExpressions", t.MatchPodLabels, t.MatchPodExpressions)
	if err != nil {
		return corev1.PodAffinityTerm{}, err
	}
	namespaces, err := labelSelector(field, "matchNamespaceLabels", "matchNamespaceExpressions", t.MatchNamespaceLabels, t.MatchNamespaceExpressions)
	if err != nil {
		return corev1.PodAffinityTerm{}, err
	}
	return corev1.PodAffinityTerm{LabelSelector: pods, Namespaces: t.Namespaces, TopologyKey: t.TopologyKey, NamespaceSelector: namespaces}, nil
}

// labelSelector builds a selector, or nil when neither part is set (a nil
// pod selector matches no pods; a nil namespace selector means "the
// namespaces listed, else the pod's own").
func labelSelector(field, labelsField, exprField string, labels map[string]string, exprs []selectorRequirement) (*metav1.LabelSelector, error) {
	if len(labels) == 0 && len(exprs) == 0 {
		return nil, nil
	}
	if err := checkLabels(joinPath(field, labelsField), labels); err != nil {
		return nil, err
	}
	sel := &metav1.LabelSelector{MatchLabels: labels}
	for i, r := range exprs {
		if err := checkRequirement(at(joinPath(field, exprField), i), r.Key, r.Operator, r.Values, false); err != nil {
			return nil, err
		}
		sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: r.Key, Operator: metav1.LabelSelectorOperator(r.Operator), Values: r.Values,
		})
	}
	return sel, nil
}
