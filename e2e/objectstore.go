package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// objectStorePort is the port the profile controller's artifact-repositories
// ConfigMap names for the object store (<OBJECT_STORE_HOST>.kubeflow:9000).
const objectStorePort = 9000

// objectStoreService is the profile controller's default OBJECT_STORE_HOST.
const objectStoreService = "seaweedfs"

// objectStore stands in for KFP's object store where Argo's wait container
// archives each step's main log (archiveLogs in the namespace's default
// artifact repository): just the S3 calls that archiving makes (bucket
// location, HEAD, PUT and GET of an object), without authentication. It is
// not an S3 implementation.
type objectStore struct {
	srv     *http.Server
	objects blobs // "bucket/key"
}

func startObjectStore() (*objectStore, error) {
	lis, err := net.Listen("tcp", hostAddr(objectStorePort))
	if err != nil {
		return nil, fmt.Errorf("object store stand-in: %w", err)
	}
	o := &objectStore{}
	o.srv = &http.Server{Handler: http.HandlerFunc(o.serve)}
	go func() { _ = o.srv.Serve(lis) }()
	return o, nil
}

func (o *objectStore) stop() { _ = o.srv.Close() }

func (o *objectStore) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	switch {
	case key == "" && r.URL.Query().Has("location"):
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">us-east-1</LocationConstraint>`)
	case key == "":
		w.WriteHeader(http.StatusOK) // bucket exists
	case r.Method == http.MethodPut:
		o.put(w, r, bucket+"/"+key)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		b, ok := o.objects.get(bucket + "/" + key)
		if !ok {
			http.Error(w, "NoSuchKey", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	default:
		// Archiving logs makes no other call; anything else is a new need.
		http.Error(w, "the S3 stand-in serves bucket location, HEAD, PUT and GET only", http.StatusNotImplemented)
	}
}

func (o *objectStore) put(w http.ResponseWriter, r *http.Request, name string) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxArtifact))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := o.objects.put(name, b); err != nil {
		http.Error(w, err.Error(), http.StatusInsufficientStorage)
		return
	}
	w.Header().Set("ETag", `"stand-in"`)
	w.WriteHeader(http.StatusOK)
}

// ArchivedLogs lists the object names Argo archived step logs under.
func (s *Stack) ArchivedLogs() []string {
	return s.objects.objects.names()
}
