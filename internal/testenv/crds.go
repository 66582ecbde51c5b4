package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// CRDResource is the GroupVersionResource of CustomResourceDefinitions; used
// through the dynamic client so that no apiextensions client is needed.
var CRDResource = schema.GroupVersionResource{
	Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
}

// InstallCRDs applies the CRDs found in the given files or directories (every
// *.yaml / *.yml except kustomization.yaml) and waits until all are
// Established.
func (c *Cluster) InstallCRDs(ctx context.Context, paths ...string) error {
	objs, err := readCRDs(paths)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := c.applyCRD(ctx, o); err != nil {
			return err
		}
	}
	for _, o := range objs {
		if err := c.waitEstablished(ctx, o.GetName()); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) applyCRD(ctx context.Context, o *unstructured.Unstructured) error {
	data, err := o.MarshalJSON()
	if err != nil {
		return fmt.Errorf("CRD %s: %w", o.GetName(), err)
	}
	// Server-side apply: idempotent, and no size limit from the
	// last-applied annotation (Argo's full CRDs exceed it).
	force := true
	_, err = c.Dynamic.Resource(CRDResource).Patch(ctx, o.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "kfp-testenv", Force: &force})
	if err != nil {
		return fmt.Errorf("apply CRD %s: %w", o.GetName(), err)
	}
	return nil
}

func (c *Cluster) waitEstablished(ctx context.Context, name string) error {
	return pollUntil(ctx, "CRD "+name+" Established", nil, func(ctx context.Context) (bool, error) {
		return c.CRDEstablished(ctx, name)
	})
}

// CRDEstablished reports whether the named CRD has condition Established=True.
func (c *Cluster) CRDEstablished(ctx context.Context, name string) (bool, error) {
	o, err := c.Dynamic.Resource(CRDResource).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, cond := range conds {
		m, _ := cond.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true, nil
		}
	}
	return false, nil
}

// readCRDs loads every YAML document under paths; anything that is not a
// CustomResourceDefinition is an error (a misplaced manifest, not a CRD).
func readCRDs(paths []string) ([]*unstructured.Unstructured, error) {
	files, err := yamlFiles(paths)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		docs, err := readYAMLDocs(f)
		if err != nil {
			return nil, err
		}
		for _, o := range docs {
			if o.GetKind() != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%s: %s %q is not a CustomResourceDefinition", f, o.GetKind(), o.GetName())
			}
		}
		objs = append(objs, docs...)
	}
	return objs, nil
}

func yamlFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("CRDs %s: %w", p, errors.Join(err, ErrToolsMissing))
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("CRDs %s: %w", p, err)
		}
		var inDir []string
		for _, e := range entries {
			n := e.Name()
			if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) && n != "kustomization.yaml" {
				inDir = append(inDir, filepath.Join(p, n))
			}
		}
		sort.Strings(inDir)
		files = append(files, inDir...)
	}
	return files, nil
}

// readYAMLDocs splits a multi-document YAML file into objects, skipping empty
// documents (a leading "---" or comment-only parts).
func readYAMLDocs(path string) ([]*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}
