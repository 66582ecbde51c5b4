package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/golang/glog"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxRequestBytes bounds an AdmissionReview body. The API server refuses
// objects over 3 MiB, so a real review is smaller; a bigger body is not
// worth reading.
const MaxRequestBytes = 6 << 20

// Outcomes of one admission (the metrics' outcome label).
const (
	outcomePatched    = "patched"
	outcomeUnchanged  = "unchanged"
	outcomeOptedOut   = "opted_out"
	outcomeNativeLine = "native_line" // KFP master's workflow, left to its driver pods (Workflows.ConvertNativeLine)
	outcomeInvalid    = "invalid"     // malformed input or a conversion error: allowed, warned
)

// mutation is what a mutator decided about one object.
type mutation struct {
	outcome  string
	patch    []patchOp
	warnings []string
	log      string // one line naming the object and what was done
}

func invalid(what string, err error) mutation {
	return mutation{outcome: outcomeInvalid, log: fmt.Sprintf("malformed %s: %v", what, err),
		warnings: []string{fmt.Sprintf("kfp-driver-plugin: %s left unchanged: %v", what, err)}}
}

// reviewHandler answers AdmissionReviews for one kind of object, decoded
// as T in the same pass as the review (a second pass over a KFP workflow
// costs as much as the first). It always allows: the webhook only ever adds
// to what the user asked for.
type reviewHandler[T any] struct {
	kind     string // "workflow" or "pod": the metrics' kind label
	group    string // the resource admitted (anything else is left alone)
	resource string
	mutate   func(namespace string, obj *T) mutation
	metrics  *Metrics
}

// admissionReview is admission.k8s.io/v1 AdmissionReview with the object
// decoded as T.
type admissionReview[T any] struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Request    *admissionRequest[T] `json:"request"`
}

type admissionRequest[T any] struct {
	admissionv1.AdmissionRequest
	Object *T `json:"object"` // shadows AdmissionRequest.Object; nil when absent or null
}

func (h *reviewHandler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	review, m := h.review(w, r)
	h.metrics.observe(h.kind, m.outcome, time.Since(start))
	logMutation(m)
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(review); err != nil {
		glog.Warningf("%s admission: writing the answer: %v", h.kind, err)
	}
}

// review decodes the request and builds the answer. It never panics: a
// panic in a mutator (our bug) is answered like malformed input.
func (h *reviewHandler[T]) review(w http.ResponseWriter, r *http.Request) (out *admissionv1.AdmissionReview, m mutation) {
	out = &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Response: &admissionv1.AdmissionResponse{Allowed: true},
	}
	defer func() {
		if p := recover(); p != nil {
			m = invalid(h.kind, fmt.Errorf("internal error: %v", p))
			out.Response = &admissionv1.AdmissionResponse{UID: out.Response.UID, Allowed: true, Warnings: m.warnings}
		}
	}()
	req, err := readReview[T](w, r)
	if req != nil {
		out.Response.UID = req.UID // also for a request we could not read in full
	}
	if err != nil {
		m = invalid("AdmissionReview", err)
		out.Response.Warnings = m.warnings
		return out, m
	}
	m = h.forCreate(req)
	out.Response.Warnings = m.warnings
	if len(m.patch) > 0 {
		patch, err := json.Marshal(m.patch)
		if err != nil {
			m = invalid(h.kind, fmt.Errorf("encode patch: %w", err))
			out.Response.Warnings = m.warnings
			return out, m
		}
		pt := admissionv1.PatchTypeJSONPatch
		out.Response.Patch, out.Response.PatchType = patch, &pt
	}
	return out, m
}

// forCreate mutates the object of a CREATE of the handler's resource and
// leaves anything else alone: the webhook configuration asks for nothing
// else, but a misconfigured one must not make us patch it.
func (h *reviewHandler[T]) forCreate(req *admissionRequest[T]) mutation {
	if req.Operation != admissionv1.Create || req.Resource.Group != h.group || req.Resource.Resource != h.resource || req.SubResource != "" {
		return mutation{outcome: outcomeUnchanged, log: fmt.Sprintf("%s %s/%s %s/%s: not a %s CREATE, ignored",
			req.Operation, req.Resource.Group, req.Resource.Resource, req.Namespace, req.Name, h.resource)}
	}
	if req.Object == nil {
		return invalid(h.kind, errors.New("request has no object"))
	}
	return h.mutate(req.Namespace, req.Object)
}

// readReview reads a bounded admission.k8s.io/v1 AdmissionReview request.
// When the review decodes only in part (e.g. an object of the wrong shape)
// the request is returned with the error, so that the answer carries its
// uid.
func readReview[T any](w http.ResponseWriter, r *http.Request) (*admissionRequest[T], error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("request larger than %d bytes", MaxRequestBytes)
		}
		return nil, fmt.Errorf("read request: %w", err)
	}
	var review admissionReview[T]
	if err := json.Unmarshal(body, &review); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && review.Request != nil {
			return review.Request, fmt.Errorf("decode: %w", err)
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("got %s %s, want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
	}
	if review.Request == nil {
		return nil, errors.New("no request")
	}
	return review.Request, nil
}

func logMutation(m mutation) {
	switch m.outcome {
	case outcomePatched, outcomeOptedOut, outcomeNativeLine:
		glog.Info(m.log)
	case outcomeInvalid:
		glog.Warning(m.log)
	default:
		glog.V(2).Info(m.log)
	}
}

// objectName names an object for the log: namespace/name, or
// namespace/generateName* before the API server has picked the name.
func objectName(ns string, meta map[string]any) string {
	if s, _ := meta["namespace"].(string); s != "" {
		ns = s
	}
	name, _ := meta["name"].(string)
	if name == "" {
		gen, _ := meta["generateName"].(string)
		name = gen + "*"
	}
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
