package profile

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
)

// The hook over HTTP with settings as KFP's install gives sync.py, against
// a real SeaweedFS: the Secret it emits carries a key that works under the
// namespace's prefix only, and syncs repeated before metacontroller stored
// the Secret emit the same key.
func TestSeaweedFSKeysThroughTheHook(t *testing.T) {
	server := testenv.StartSeaweedFSFor(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := func(ak, sk string) *minio.Client {
		c, err := objectstore.NewS3Client(server.S3URL, objectstore.Key{AccessKey: ak, SecretKey: sk}, DefaultRegion)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := client(server.AdminAccessKey, server.AdminSecretKey).MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings([]string{EnvIAMEndpoint + "=" + server.IAMURL, EnvS3Endpoint + "=" + server.S3URL,
		EnvAdminAccessKey + "=" + server.AdminAccessKey, EnvAdminSecretKey + "=" + server.AdminSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.Issuer()
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(s, NewPodMetadataSource(""), keys)
	secretKey := func() (string, string) {
		rec := post(t, h, requestBody(t, "object", "attachments"))
		var resp Response
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
			t.Fatalf("sync: %d %s", rec.Code, rec.Body)
		}
		if _, failed := resp.Status[ObjectStoreErrorKey]; failed {
			t.Fatalf("sync status %v", resp.Status)
		}
		data := byType(resp.Attachments)["Secret.v1 team-a/"+ArtifactSecret]["data"].(map[string]any)
		ak, _ := base64.StdEncoding.DecodeString(data["accesskey"].(string))
		sk, _ := base64.StdEncoding.DecodeString(data["secretkey"].(string))
		return string(ak), string(sk)
	}
	ak, sk := secretKey()
	if ak == server.AdminAccessKey {
		t.Fatal("the namespace got the admin key")
	}
	if ak2, sk2 := secretKey(); ak2 != ak || sk2 != sk {
		t.Fatalf("a repeated sync before the Secret was stored issued another key: %s then %s", ak, ak2)
	}
	c := client(ak, sk)
	body := "x"
	if _, err := c.PutObject(ctx, bucket, "private-artifacts/team-a/v2/artifacts/x", strings.NewReader(body), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("the Secret's key cannot write its namespace's pipeline root: %v", err)
	}
	_, err = c.PutObject(ctx, bucket, "private-artifacts/team-b/v2/artifacts/x", strings.NewReader(body), 1, minio.PutObjectOptions{})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("the Secret's key writing another namespace's prefix: %v, want AccessDenied", err)
	}
}
