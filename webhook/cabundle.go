package webhook

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

var mutatingWebhookConfigurations = schema.GroupVersionResource{
	Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations",
}

// maxBundleCAs bounds the caBundle: every replica start adds a CA, and a
// CA of a replica that is gone stays until it expires.
const maxBundleCAs = 16

// CABundle adds CAs to the caBundle of every webhook of one
// MutatingWebhookConfiguration.
type CABundle interface {
	Ensure(ctx context.Context, caPEM []byte) error
}

// WebhookConfigBundle is CABundle on the API server.
type WebhookConfigBundle struct {
	Client dynamic.Interface
	Name   string // of the MutatingWebhookConfiguration
	Now    func() time.Time
}

// Ensure makes every webhook's caBundle contain caPEM, keeping the other
// unexpired CAs there (other replicas', or our previous one while
// connections may still use it) and dropping expired ones. Written only
// when something changed; a conflicting write by another replica is retried
// on the new version.
func (w *WebhookConfigBundle) Ensure(ctx context.Context, caPEM []byte) error {
	res := w.Client.Resource(mutatingWebhookConfigurations)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cfg, err := res.Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		changed, err := setBundles(cfg, caPEM, w.now())
		if err != nil || !changed {
			return err
		}
		_, err = res.Update(ctx, cfg, metav1.UpdateOptions{FieldManager: "kfp-driver-plugin-webhook"})
		return err
	})
	if err != nil {
		return fmt.Errorf("caBundle of MutatingWebhookConfiguration %s: %w", w.Name, err)
	}
	return nil
}

func (w *WebhookConfigBundle) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// setBundles merges caPEM into every webhook's clientConfig.caBundle and
// reports whether anything changed.
func setBundles(cfg *unstructured.Unstructured, caPEM []byte, now time.Time) (bool, error) {
	webhooks, _, err := unstructured.NestedSlice(cfg.Object, "webhooks")
	if err != nil {
		return false, err
	}
	changed := false
	for i, raw := range webhooks {
		wh, ok := raw.(map[string]any)
		if !ok {
			return false, fmt.Errorf("webhooks[%d]: want an object", i)
		}
		old, _, _ := unstructured.NestedString(wh, "clientConfig", "caBundle")
		oldPEM, _ := base64.StdEncoding.DecodeString(old) // unreadable: replaced
		merged := mergeBundle(oldPEM, caPEM, now)
		if bytes.Equal(merged, oldPEM) {
			continue
		}
		if err := unstructured.SetNestedField(wh, base64.StdEncoding.EncodeToString(merged), "clientConfig", "caBundle"); err != nil {
			return false, fmt.Errorf("webhooks[%d]: %w", i, err)
		}
		webhooks[i], changed = wh, true
	}
	if !changed {
		return false, nil
	}
	return true, unstructured.SetNestedSlice(cfg.Object, webhooks, "webhooks")
}

// mergeBundle returns the PEM bundle of own plus the unexpired certificates
// of old: own always, the others newest first up to maxBundleCAs in all.
// The order depends only on the set (newest first), so replicas agreeing on
// the set do not rewrite each other's bundle.
func mergeBundle(old, own []byte, now time.Time) []byte {
	mine := parseBundle(own)
	var others []*x509.Certificate
	for _, c := range parseBundle(old) {
		if now.Before(c.NotAfter) && !containsCert(mine, c.Raw) && !containsCert(others, c.Raw) {
			others = append(others, c)
		}
	}
	sortNewestFirst(others)
	if room := maxBundleCAs - len(mine); len(others) > room {
		others = others[:max(room, 0)]
	}
	certs := append(mine, others...)
	sortNewestFirst(certs)
	var out []byte
	for _, c := range certs {
		out = append(out, pemCert(c.Raw)...)
	}
	return out
}

func sortNewestFirst(certs []*x509.Certificate) {
	sort.SliceStable(certs, func(i, j int) bool {
		if !certs[i].NotBefore.Equal(certs[j].NotBefore) {
			return certs[i].NotBefore.After(certs[j].NotBefore)
		}
		return bytes.Compare(certs[i].Raw, certs[j].Raw) < 0
	})
}

func containsCert(certs []*x509.Certificate, raw []byte) bool {
	for _, c := range certs {
		if bytes.Equal(c.Raw, raw) {
			return true
		}
	}
	return false
}
