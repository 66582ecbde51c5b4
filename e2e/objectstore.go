package e2e

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/minio/minio-go/v7"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/realnode"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
)

// objectStorePort is the port the profile controller's artifact-repositories
// ConfigMap names for the object store (<OBJECT_STORE_HOST>.kubeflow:9000).
const objectStorePort = 9000

// objectStoreService is the profile controller's default OBJECT_STORE_HOST.
const objectStoreService = "seaweedfs"

// minioService is the name KFP's launcher and the plugin's driver logs use
// for minio:// roots (KFP's SeaweedFS install keeps it).
const minioService = "minio-service"

// artifactBucket is the bucket KFP's install creates.
const artifactBucket = "mlpipeline"

// objectStore is a real SeaweedFS on the node bridge: its S3 API on the
// port the namespaces' artifact repositories name (Argo's wait containers
// archive each step's log there, with the namespace's key), its IAM API
// where the profile controller issues those keys.
type objectStore struct {
	server *testenv.SeaweedFS
	admin  *minio.Client
}

func startObjectStore(ctx context.Context, toolsDir, dir string) (*objectStore, error) {
	server, err := testenv.StartSeaweedFS(ctx, testenv.SeaweedFSOptions{
		ToolsDir: toolsDir, Dir: filepath.Join(dir, "seaweedfs"), BindIP: realnode.Gateway, S3Port: objectStorePort,
	})
	if err != nil {
		return nil, err
	}
	o := &objectStore{server: server}
	if o.admin, err = o.client(objectstore.Key{AccessKey: server.AdminAccessKey, SecretKey: server.AdminSecretKey}); err != nil {
		o.stop()
		return nil, err
	}
	if err := o.admin.MakeBucket(ctx, artifactBucket, minio.MakeBucketOptions{}); err != nil {
		o.stop()
		return nil, fmt.Errorf("object store: make bucket %s: %w", artifactBucket, err)
	}
	return o, nil
}

func (o *objectStore) stop() { _ = o.server.Stop() }

func (o *objectStore) client(k objectstore.Key) (*minio.Client, error) {
	return objectstore.NewS3Client(o.server.S3URL, k, profile.DefaultRegion)
}

// profileEnv is the profile controller's environment as KFP's multi-user
// install sets it for SeaweedFS: per-namespace keys through IAM.
func (o *objectStore) profileEnv() []string {
	return []string{
		profile.EnvIAMEndpoint + "=" + o.server.IAMURL,
		profile.EnvS3Endpoint + "=" + o.server.S3URL,
		profile.EnvAdminAccessKey + "=" + o.server.AdminAccessKey,
		profile.EnvAdminSecretKey + "=" + o.server.AdminSecretKey,
	}
}

// ArtifactKey reads the key of ns's artifact Secret, as a pod using it gets it.
func (s *Stack) ArtifactKey(ctx context.Context, ns string) (objectstore.Key, error) {
	sec, err := s.Cluster.Client.CoreV1().Secrets(ns).Get(ctx, profile.ArtifactSecret, metav1.GetOptions{})
	if err != nil {
		return objectstore.Key{}, err
	}
	return objectstore.Key{AccessKey: string(sec.Data["accesskey"]), SecretKey: string(sec.Data["secretkey"])}, nil
}

// ObjectsUnder lists the object names under prefix with key k.
func (s *Stack) ObjectsUnder(ctx context.Context, k objectstore.Key, prefix string) ([]string, error) {
	c, err := s.objects.client(k)
	if err != nil {
		return nil, err
	}
	var names []string
	for obj := range c.ListObjects(ctx, artifactBucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return names, obj.Err
		}
		names = append(names, obj.Key)
	}
	return names, nil
}

// ReadObject reads bucket object name with key k; the error is S3's
// (minio.ToErrorResponse gives its code).
func (s *Stack) ReadObject(ctx context.Context, k objectstore.Key, name string) (string, error) {
	c, err := s.objects.client(k)
	if err != nil {
		return "", err
	}
	obj, err := c.GetObject(ctx, artifactBucket, name, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, maxArtifact))
	return string(b), err
}
