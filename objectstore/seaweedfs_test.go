package objectstore

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
)

const testBucket = "mlpipeline"

// store is a real SeaweedFS with the bucket KFP's install creates, and an
// issuer for it.
type store struct {
	server *testenv.SeaweedFS
	admin  *minio.Client
	cfg    SeaweedFSConfig
}

func startStore(t *testing.T) *store {
	t.Helper()
	server := testenv.StartSeaweedFSFor(t)
	s := &store{server: server, cfg: SeaweedFSConfig{
		IAMEndpoint: server.IAMURL, S3Endpoint: server.S3URL, Bucket: testBucket,
		Admin: Key{AccessKey: server.AdminAccessKey, SecretKey: server.AdminSecretKey},
	}}
	s.admin = s.client(t, s.cfg.Admin)
	if err := s.admin.MakeBucket(ctx(t), testBucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	return s
}

func (s *store) issuer(t *testing.T, mutate ...func(*SeaweedFSConfig)) *SeaweedFS {
	t.Helper()
	cfg := s.cfg
	for _, m := range mutate {
		m(&cfg)
	}
	is, err := NewSeaweedFS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func (s *store) client(t *testing.T, k Key) *minio.Client {
	t.Helper()
	c, err := NewS3Client(s.server.S3URL, k, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func put(c *minio.Client, ctx context.Context, bucket, key, body string) error {
	_, err := c.PutObject(ctx, bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
	return err
}

func get(c *minio.Client, ctx context.Context, bucket, key string) (string, error) {
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	var b bytes.Buffer
	_, err = io.Copy(&b, obj)
	return b.String(), err
}

func list(c *minio.Client, ctx context.Context, prefix string, recursive bool) ([]string, error) {
	var keys []string
	for o := range c.ListObjects(ctx, testBucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: recursive}) {
		if o.Err != nil {
			return keys, o.Err
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}

// untilAllowed retries op while it is denied, for up to 10 s, and returns
// its last error.
func untilAllowed(ctx context.Context, op func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := op()
		if !denied(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func denied(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == "AccessDenied"
}

func TestNamespaceKeyIsConfinedToItsPrefixes(t *testing.T) {
	s := startStore(t)
	is := s.issuer(t)
	c := ctx(t)
	keyA, err := is.For(c, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := is.For(c, "team-b")
	if err != nil {
		t.Fatal(err)
	}
	if keyA.AccessKey == keyB.AccessKey || keyA.AccessKey == s.cfg.Admin.AccessKey {
		t.Fatalf("keys not distinct: a=%s b=%s admin=%s", keyA, keyB, s.cfg.Admin.AccessKey)
	}
	a, b := s.client(t, keyA), s.client(t, keyB)
	// SeaweedFS's S3 server picks up new identities and policies from its
	// filer asynchronously: a key just issued may be refused for a moment.
	for who, cl := range map[string]*minio.Client{"a": a, "b": b} {
		ns := "team-" + who
		if err := untilAllowed(c, func() error { return put(cl, c, testBucket, "private-artifacts/"+ns+"/run/out.txt", who+"'s") }); err != nil {
			t.Fatalf("%s writes its own prefix: %v", who, err)
		}
	}

	// Allowed for a: its own prefixes and the shared ones, read back.
	for _, key := range []string{"private-artifacts/team-a/run/out.txt", "private/team-a/x", "artifacts/x", "shared/x"} {
		if err := put(a, c, testBucket, key, "a's "+key); err != nil {
			t.Errorf("a writes %s: %v", key, err)
			continue
		}
		if got, err := get(a, c, testBucket, key); err != nil || got != "a's "+key {
			t.Errorf("a reads %s: %q, %v", key, got, err)
		}
	}
	if keys, err := list(a, c, "private-artifacts/team-a/", true); err != nil || len(keys) != 1 {
		t.Errorf("a lists its own prefix: %v, %v", keys, err)
	}

	// Refused for a: b's prefix (objects and listing), the bucket root,
	// a deep listing of everything, another bucket, the IAM API.
	if err := put(a, c, testBucket, "private-artifacts/team-b/run/evil.txt", "x"); !denied(err) {
		t.Errorf("a writes under b's prefix: %v, want AccessDenied", err)
	}
	if _, err := get(a, c, testBucket, "private-artifacts/team-b/run/out.txt"); !denied(err) {
		t.Errorf("a reads b's object: %v, want AccessDenied", err)
	}
	if _, err := list(a, c, "private-artifacts/team-b/", true); !denied(err) {
		t.Errorf("a lists b's prefix: %v, want AccessDenied", err)
	}
	if err := put(a, c, testBucket, "top-level.txt", "x"); !denied(err) {
		t.Errorf("a writes at the bucket root: %v, want AccessDenied", err)
	}
	if _, err := list(a, c, "", true); !denied(err) {
		t.Errorf("a lists the whole bucket: %v, want AccessDenied", err)
	}
	if err := s.admin.MakeBucket(c, "other", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := put(a, c, "other", "x", "x"); !denied(err) {
		t.Errorf("a writes another bucket: %v, want AccessDenied", err)
	}
	// IAM with a's key: nothing that reaches beyond team-a's own policy.
	asA := s.issuer(t, func(cfg *SeaweedFSConfig) { cfg.Admin = keyA }).iam
	if _, err := asA.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("team-b")}); err == nil {
		t.Error("a's key may create an access key of user team-b")
	}
	if _, err := asA.PutUserPolicy(c, &iam.PutUserPolicyInput{UserName: aws.String("team-a"), PolicyName: aws.String(PolicyName("team-a")),
		PolicyDocument: aws.String(UserPolicy(testBucket, "team-b"))}); err == nil {
		t.Error("a's key may rewrite its own policy")
	}
	if _, err := asA.ListUsers(c, &iam.ListUsersInput{}); err == nil {
		t.Error("a's key may list IAM users")
	}

	// The admin key still reads and writes every object, but the bucket
	// policy's deny (sync.py's, for every principal) also stops it from
	// listing inside a namespace's private prefix.
	if got, err := get(s.admin, c, testBucket, "private-artifacts/team-a/run/out.txt"); err != nil || got != "a's private-artifacts/team-a/run/out.txt" {
		t.Errorf("admin reads a's object: %q, %v", got, err)
	}
	if _, err := list(s.admin, c, "private-artifacts/team-a/", true); !denied(err) {
		t.Errorf("admin lists a's prefix: %v; the bucket policy's deny should apply to it too", err)
	}
}

func accessKeys(t *testing.T, is *SeaweedFS, user string) int {
	t.Helper()
	out, err := is.iam.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("list access keys of %s: %v", user, err)
	}
	return len(out.AccessKeyMetadata)
}

func TestRepeatedCallsIssueOneKeyUntilStored(t *testing.T) {
	s := startStore(t)
	is := s.issuer(t)
	first, err := is.For(ctx(t), "team-a")
	if err != nil {
		t.Fatal(err)
	}
	again, err := is.For(ctx(t), "team-a")
	if err != nil || again != first {
		t.Fatalf("second call: %s, %v; want the first key %s", again, err, first)
	}
	if n := accessKeys(t, is, "team-a"); n != 1 {
		t.Fatalf("user team-a has %d keys after two calls, want 1", n)
	}
	// Once the Secret is stored, a missing Secret means it was deleted: a
	// fresh key (rotation), and the first one keeps working until removed.
	is.Stored("team-a")
	rotated, err := is.For(ctx(t), "team-a")
	if err != nil || rotated.AccessKey == first.AccessKey {
		t.Fatalf("after Stored: %s, %v; want a new key", rotated, err)
	}
	if n := accessKeys(t, is, "team-a"); n != 2 {
		t.Fatalf("user team-a has %d keys after rotation, want 2", n)
	}
}

func TestFailedStepIsRetriedWithTheSameKey(t *testing.T) {
	s := startStore(t)
	is := s.issuer(t, func(cfg *SeaweedFSConfig) { cfg.Bucket = "not-yet" })
	if _, err := is.For(ctx(t), "team-a"); err == nil || !strings.Contains(err.Error(), `bucket "not-yet"`) {
		t.Fatalf("For with a missing bucket: %v, want an error naming the bucket", err)
	}
	if err := s.admin.MakeBucket(ctx(t), "not-yet", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	key, err := is.For(ctx(t), "team-a")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := accessKeys(t, is, "team-a"); n != 1 {
		t.Fatalf("user team-a has %d keys after a failed and a successful call, want 1", n)
	}
	if err := put(s.client(t, key), ctx(t), "not-yet", "private-artifacts/team-a/x", "x"); err != nil {
		t.Fatalf("the key handed out after the retry cannot write its prefix: %v", err)
	}
}

func TestLifecycleRuleIsMergedByID(t *testing.T) {
	s := startStore(t)
	other := lifecycle.Rule{ID: "keep-me", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "tmp/"},
		Expiration: lifecycle.Expiration{Days: 1}}
	cfg := lifecycle.NewConfiguration()
	cfg.Rules = []lifecycle.Rule{other}
	if err := s.admin.SetBucketLifecycle(ctx(t), testBucket, cfg); err != nil {
		t.Fatalf("admin sets a rule: %v", err)
	}
	rules := func() map[string]int {
		got, err := s.admin.GetBucketLifecycle(ctx(t), testBucket)
		if err != nil {
			t.Fatalf("get lifecycle: %v", err)
		}
		m := map[string]int{}
		for _, r := range got.Rules {
			m[r.ID+" "+r.RuleFilter.Prefix+r.Prefix] = int(r.Expiration.Days)
		}
		return m
	}
	if _, err := s.issuer(t, func(c *SeaweedFSConfig) { c.RetentionDays = 30 }).For(ctx(t), "team-a"); err != nil {
		t.Fatal(err)
	}
	if got := rules(); got["keep-me tmp/"] != 1 || got["private-artifacts private-artifacts"] != 30 || len(got) != 2 {
		t.Fatalf("rules with retention 30: %v", got)
	}
	if _, err := s.issuer(t).For(ctx(t), "team-b"); err != nil {
		t.Fatal(err)
	}
	if got := rules(); got["keep-me tmp/"] != 1 || len(got) != 1 {
		t.Fatalf("rules with retention off: %v, want only keep-me", got)
	}
}

func TestUnreachableIAMNamesTheEndpoint(t *testing.T) {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	closed := func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) }
	is, err := NewSeaweedFS(SeaweedFSConfig{IAMEndpoint: closed(ports[0]), S3Endpoint: closed(ports[1]), Bucket: testBucket,
		Admin: Key{"a", "b"}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = is.For(ctx(t), "team-a")
	if err == nil || !strings.Contains(err.Error(), closed(ports[0])) || !strings.Contains(err.Error(), `user "team-a"`) {
		t.Fatalf("For against a closed port: %v, want an error naming the IAM endpoint and the user", err)
	}
}

func TestNewSeaweedFSRejectsBadEndpoints(t *testing.T) {
	for _, bad := range []string{"", "seaweedfs:8333", "ftp://x:1", "http://x:1/path", "http://x:1?q=1", "http://"} {
		_, err := NewSeaweedFS(SeaweedFSConfig{IAMEndpoint: "http://iam:8111", S3Endpoint: bad})
		if err == nil || !strings.Contains(err.Error(), "S3 endpoint") {
			t.Errorf("S3 endpoint %q: %v, want an error naming it", bad, err)
		}
	}
}
