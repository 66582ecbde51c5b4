package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube/kubetest"
)

// statusServer answers every request with a metav1.Status of code and
// reason, as the API server does for errors.
func statusServer(t *testing.T, code int32, reason metav1.StatusReason, details *metav1.StatusDetails) *kube.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(code))
		_ = json.NewEncoder(w).Encode(metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
			Code: code, Reason: reason, Message: "from the test server", Details: details,
		})
	}))
	t.Cleanup(srv.Close)
	k, err := kube.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIsTransient(t *testing.T) {
	retry := &metav1.StatusDetails{RetryAfterSeconds: 1}
	cases := []struct {
		code      int32
		reason    metav1.StatusReason
		details   *metav1.StatusDetails
		transient bool
	}{
		{503, metav1.StatusReasonServiceUnavailable, nil, true},
		{429, metav1.StatusReasonTooManyRequests, nil, true},
		{504, metav1.StatusReasonTimeout, nil, true},
		{500, metav1.StatusReasonServerTimeout, nil, true},
		{500, metav1.StatusReasonInternalError, retry, true}, // the server asks to retry
		{500, metav1.StatusReasonInternalError, nil, false},
		{403, metav1.StatusReasonForbidden, nil, false},
		{404, metav1.StatusReasonNotFound, nil, false},
		{409, metav1.StatusReasonAlreadyExists, nil, false},
		{422, metav1.StatusReasonInvalid, nil, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s retry=%v", c.code, c.reason, c.details != nil), func(t *testing.T) {
			_, err := statusServer(t, c.code, c.reason, c.details).GetPVC(context.Background(), "ns", "p")
			var se *apierrors.StatusError
			if !errors.As(err, &se) || apierrors.ReasonForError(err) != c.reason {
				t.Fatalf("error %v (%T), want a StatusError with reason %s", err, err, c.reason)
			}
			if got := kube.IsTransient(fmt.Errorf("wrapped: %w", err)); got != c.transient {
				t.Errorf("IsTransient = %v, want %v", got, c.transient)
			}
		})
	}
	if kube.IsTransient(nil) || kube.IsTransient(errors.New("plain")) {
		t.Error("nil or a plain error is transient")
	}
	if !kube.IsTransient(fmt.Errorf("x: %w", context.DeadlineExceeded)) {
		t.Error("a deadline is not transient")
	}
}

func TestUnreachableIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	k, err := kube.NewForConfig(&rest.Config{Host: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GetConfigMap(context.Background(), "ns", "cm"); !kube.IsTransient(err) {
		t.Errorf("connection refused: %v, want transient", err)
	}
	// A server that hangs up without answering.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	k, _ = kube.NewForConfig(&rest.Config{Host: srv.URL})
	if _, err := k.CreatePVC(context.Background(), "ns", kubetest.ContractPVC("p")); !kube.IsTransient(err) {
		t.Errorf("connection closed without an answer: %v, want transient", err)
	}
}

// TestRequests checks the wire: paths, verbs, and the PVC body as JSON with
// its apiVersion and kind.
func TestRequests(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body))
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodDelete:
			_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Success"}`)
		case http.MethodPost:
			_, _ = w.Write(body)
		default:
			_, _ = io.WriteString(w, `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm","namespace":"ns"},"data":{"k":"v"}}`)
		}
	}))
	defer srv.Close()
	k, err := kube.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cm, err := k.GetConfigMap(ctx, "ns", "cm")
	if err != nil || cm.Data["k"] != "v" {
		t.Fatalf("GetConfigMap: %+v, %v", cm, err)
	}
	pvc, err := k.CreatePVC(ctx, "ns", kubetest.ContractPVC("p"))
	if err != nil || pvc.Name != "p" || *pvc.Spec.StorageClassName != "standard" {
		t.Fatalf("CreatePVC: %+v, %v", pvc, err)
	}
	if err := k.DeletePVC(ctx, "ns", "p"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /api/v1/namespaces/ns/configmaps/cm  ",
		`POST /api/v1/namespaces/ns/persistentvolumeclaims application/json {"kind":"PersistentVolumeClaim","apiVersion":"v1",` +
			`"metadata":{"name":"p","creationTimestamp":null,"annotations":{"a":"b"}},"spec":{"accessModes":["ReadWriteOnce"],` +
			`"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"standard"},"status":{}}` + "\n",
		"DELETE /api/v1/namespaces/ns/persistentvolumeclaims/p  ",
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("request %d\n got %q\nwant %q", i, at(got, i), want[i])
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}
