package flow

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pvcObject is the PVC a createpvc task asks for, built from its inputs as
// KFP's driver builds it (storage class "standard" when the input is absent).
func pvcObject(params map[string]*structpb.Value) (*corev1.PersistentVolumeClaim, error) {
	size, err := resource.ParseQuantity(params["size"].GetStringValue())
	if err != nil {
		return nil, fmt.Errorf("input \"size\": %w", err)
	}
	modes := params["access_modes"].GetListValue().GetValues()
	if len(modes) == 0 {
		return nil, errors.New("input \"access_modes\": required, a list")
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: params["pvc_name"].GetStringValue(), Annotations: stringMap(params["annotations"])},
		Spec: corev1.PersistentVolumeClaimSpec{
			Resources:  corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			VolumeName: params["volume_name"].GetStringValue(),
		},
	}
	for _, m := range modes {
		pvc.Spec.AccessModes = append(pvc.Spec.AccessModes, corev1.PersistentVolumeAccessMode(m.GetStringValue()))
	}
	class := "standard"
	if v, ok := params["storage_class_name"]; ok {
		class = v.GetStringValue()
	}
	pvc.Spec.StorageClassName = &class
	if ds := params["data_source"].GetStructValue().GetFields(); ds != nil {
		pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: ds["kind"].GetStringValue(), Name: ds["name"].GetStringValue()}
		if g := ds["apiGroup"].GetStringValue(); g != "" {
			pvc.Spec.DataSource.APIGroup = &g
		}
	}
	return pvc, nil
}

func stringMap(v *structpb.Value) map[string]string {
	fields := v.GetStructValue().GetFields()
	if len(fields) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, f := range fields {
		out[k] = f.GetStringValue()
	}
	return out
}

// pvcDiff lists how an existing PVC differs from the requested one, in the
// fields the task sets. What the cluster adds on its own (a bound volume
// name when none was asked for, controllers' annotations, the data source
// mirrored into dataSourceRef, a default volume mode) is not a difference.
func pvcDiff(want, got *corev1.PersistentVolumeClaim) []string {
	var diff []string
	add := func(field string, got, want any) {
		diff = append(diff, fmt.Sprintf("%s is %v, want %v", field, got, want))
	}
	if !sameModes(want.Spec.AccessModes, got.Spec.AccessModes) {
		add("accessModes", got.Spec.AccessModes, want.Spec.AccessModes)
	}
	w, g := want.Spec.Resources.Requests[corev1.ResourceStorage], got.Spec.Resources.Requests[corev1.ResourceStorage]
	if w.Cmp(g) != 0 {
		add("storage request", g.String(), w.String())
	}
	if wc, gc := deref(want.Spec.StorageClassName), deref(got.Spec.StorageClassName); wc != gc {
		add("storageClassName", gc, wc)
	}
	if want.Spec.VolumeName != "" && want.Spec.VolumeName != got.Spec.VolumeName {
		add("volumeName", quote(got.Spec.VolumeName), quote(want.Spec.VolumeName))
	}
	if ws, gs := dataSource(want.Spec.DataSource), dataSource(got.Spec.DataSource); ws != gs {
		add("dataSource", gs, ws)
	}
	for _, k := range slices.Sorted(maps.Keys(want.Annotations)) {
		if gv, ok := got.Annotations[k]; !ok || gv != want.Annotations[k] {
			add(fmt.Sprintf("annotation %q", k), quoteIf(gv, ok), quote(want.Annotations[k]))
		}
	}
	return diff
}

func sameModes(a, b []corev1.PersistentVolumeAccessMode) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func deref(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return quote(*s)
}

func dataSource(r *corev1.TypedLocalObjectReference) string {
	if r == nil {
		return "<none>"
	}
	group := ""
	if r.APIGroup != nil {
		group = *r.APIGroup
	}
	return fmt.Sprintf("%s/%s %q", group, r.Kind, r.Name)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func quoteIf(s string, ok bool) string {
	if !ok {
		return "<unset>"
	}
	return quote(s)
}
