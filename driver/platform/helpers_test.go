package platform

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// baseSpec is a minimal patch as the container driver builds it.
func baseSpec() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "python:3.11"}}}
}

// view is what a test asserts about a patch: every field the platform
// config may touch. Fields left empty in the expected JSON must stay empty,
// so a test also catches anything added by mistake.
type view struct {
	Volumes          []corev1.Volume               `json:"volumes,omitempty"`
	Mounts           []corev1.VolumeMount          `json:"mounts,omitempty"`
	Env              []corev1.EnvVar               `json:"env,omitempty"`
	PullPolicy       corev1.PullPolicy             `json:"pullPolicy,omitempty"`
	SecurityContext  *corev1.SecurityContext       `json:"securityContext,omitempty"`
	NodeSelector     map[string]string             `json:"nodeSelector,omitempty"`
	Tolerations      []corev1.Toleration           `json:"tolerations,omitempty"`
	Affinity         *corev1.Affinity              `json:"affinity,omitempty"`
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	Deadline         *int64                        `json:"activeDeadlineSeconds,omitempty"`
	HostUsers        *bool                         `json:"hostUsers,omitempty"`
	InitContainers   []corev1.Container            `json:"initContainers,omitempty"`
}

func viewOf(t *testing.T, spec *corev1.PodSpec) view {
	t.Helper()
	main := mainOf(t, spec)
	return view{
		Volumes: spec.Volumes, Mounts: main.VolumeMounts, Env: main.Env, PullPolicy: main.ImagePullPolicy,
		SecurityContext: main.SecurityContext, NodeSelector: spec.NodeSelector, Tolerations: spec.Tolerations,
		Affinity: spec.Affinity, ImagePullSecrets: spec.ImagePullSecrets, Deadline: spec.ActiveDeadlineSeconds,
		HostUsers: spec.HostUsers, InitContainers: spec.InitContainers,
	}
}

func mainOf(t *testing.T, spec *corev1.PodSpec) *corev1.Container {
	t.Helper()
	for i := range spec.Containers {
		if spec.Containers[i].Name == "main" {
			return &spec.Containers[i]
		}
	}
	t.Fatal("no main container")
	return nil
}

// assertView compares the patch, seen through view, with want (JSON).
func assertView(t *testing.T, spec *corev1.PodSpec, want string) {
	t.Helper()
	assertJSON(t, viewOf(t, spec), want)
}

func assertJSON(t *testing.T, got any, want string) {
	t.Helper()
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(gotJSON, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", gotJSON, compact(t, want))
	}
}

func compact(t *testing.T, s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// applyCase is one table entry of the feature tests: a raw config and
// either the expected patch (view JSON) and summary, or an error.
type applyCase struct {
	name string
	cfg  string
	in   Inputs
	opts Options
	spec func() *corev1.PodSpec // default baseSpec
	want string                 // view JSON; "{}" for "nothing applied"
	sum  string                 // Summary.String(), checked when set
	err  string                 // substring of the error; the case expects failure
}

func runCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newSpec := tc.spec
			if newSpec == nil {
				newSpec = baseSpec
			}
			spec := newSpec()
			sum, err := Apply(spec, nil, []byte(tc.cfg), tc.in, tc.opts)
			if tc.err != "" {
				checkErr(t, err, tc.err)
				if !equality.Semantic.DeepEqual(spec, newSpec()) {
					t.Errorf("a failed Apply changed the spec: %+v", spec)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			assertView(t, spec, tc.want)
			if tc.sum != "" && sum.String() != tc.sum {
				t.Errorf("summary %q, want %q", sum.String(), tc.sum)
			}
			checkPodLocally(t, PodFor(spec))
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

// inputs builds a MapInputs from component inputs (strings, or any value
// given as *structpb.Value).
func inputs(params map[string]any) MapInputs {
	m := MapInputs{Params: map[string]*structpb.Value{}}
	for k, v := range params {
		if pv, ok := v.(*structpb.Value); ok {
			m.Params[k] = pv
			continue
		}
		pv, err := structpb.NewValue(v)
		if err != nil {
			panic(err)
		}
		m.Params[k] = pv
	}
	return m
}

// jsonValue parses a JSON literal of a test table.
func jsonValue(s string) *structpb.Value {
	v := &structpb.Value{}
	if err := v.UnmarshalJSON([]byte(s)); err != nil {
		panic(err)
	}
	return v
}
