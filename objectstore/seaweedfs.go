package objectstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/golang/glog"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
)

// LifecycleRuleID names the bucket lifecycle rule this package manages.
const LifecycleRuleID = "private-artifacts"

// SeaweedFSConfig says where SeaweedFS's IAM and S3 APIs are and who the
// admin is.
type SeaweedFSConfig struct {
	IAMEndpoint string // e.g. http://seaweedfs.kubeflow:8111
	S3Endpoint  string // e.g. http://seaweedfs.kubeflow:8333
	Region      string
	Admin       Key
	Bucket      string
	// RetentionDays > 0 expires objects under private-artifacts/ after that
	// many days; otherwise the rule is removed if present.
	RetentionDays int
	// Timeout bounds each API call (default 10 s).
	Timeout time.Duration
}

// SeaweedFS issues per-namespace keys through SeaweedFS's IAM API.
type SeaweedFS struct {
	cfg SeaweedFSConfig
	iam *iam.Client
	s3  *minio.Client

	mu      sync.Mutex
	pending map[string]*pendingKey // namespaces whose Secret is not stored yet

	bucketMu    sync.Mutex
	bucketReady bool
}

// pendingKey is one namespace's progress: a key once created is kept (its
// secret cannot be read back) and the policy step retried until it holds.
type pendingKey struct {
	mu        sync.Mutex
	key       Key
	created   bool
	policySet bool
}

// NewSeaweedFS checks the endpoints and builds the clients; it does not
// dial.
func NewSeaweedFS(cfg SeaweedFSConfig) (*SeaweedFS, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if _, err := ParseEndpoint(cfg.IAMEndpoint); err != nil {
		return nil, fmt.Errorf("IAM endpoint: %w", err)
	}
	s3Client, err := NewS3Client(cfg.S3Endpoint, cfg.Admin, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint: %w", err)
	}
	admin := cfg.Admin
	httpClient := &http.Client{Timeout: cfg.Timeout}
	iamClient := iam.New(iam.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.IAMEndpoint),
		HTTPClient:   httpClient,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: admin.AccessKey, SecretAccessKey: admin.SecretKey, Source: "profile controller settings"}, nil
		}),
	})
	return &SeaweedFS{cfg: cfg, iam: iamClient, s3: s3Client, pending: map[string]*pendingKey{}}, nil
}

// ParseEndpoint accepts http(s)://host[:port] with no path or query: an
// address an admin configured, checked once at start-up.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%q is not http(s)://host[:port]", raw)
	}
	return u, nil
}

// NewS3Client is a client of the S3 API at endpoint (ParseEndpoint's form)
// signing as k, with path-style bucket addressing as SeaweedFS and MinIO
// serve it; it does not dial.
func NewS3Client(endpoint string, k Key, region string) (*minio.Client, error) {
	u, err := ParseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = "us-east-1"
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(k.AccessKey, k.SecretKey, ""),
		Secure: u.Scheme == "https", Region: region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", endpoint, err)
	}
	return c, nil
}

// For issues (once) the key of namespace ns: access key, user policy, then
// the bucket's listing policy and lifecycle rule. A failed step is retried
// on the next call; the key is returned only when every step succeeded.
func (s *SeaweedFS) For(ctx context.Context, ns string) (Key, error) {
	s.mu.Lock()
	p := s.pending[ns]
	if p == nil {
		p = &pendingKey{}
		s.pending[ns] = p
	}
	s.mu.Unlock()

	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.created {
		key, err := s.createKey(ctx, ns)
		if err != nil {
			return Key{}, err
		}
		p.key, p.created = key, true
	}
	if !p.policySet {
		if err := s.putUserPolicy(ctx, ns); err != nil {
			return Key{}, err
		}
		p.policySet = true
	}
	if err := s.prepareBucket(ctx); err != nil {
		return Key{}, err
	}
	return p.key, nil
}

// Stored forgets the key kept for ns: its Secret holds it now. Should the
// Secret be deleted later, the next sync issues a fresh key (rotation).
func (s *SeaweedFS) Stored(ns string) {
	s.mu.Lock()
	delete(s.pending, ns)
	s.mu.Unlock()
}

func (s *SeaweedFS) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

// createKey makes an access key of user ns (SeaweedFS creates the user with
// its first key). Keys the user already has were issued for a Secret that no
// longer exists, or by a controller that stopped before storing it: their
// secrets cannot be read back, so they are reported, not reused.
func (s *SeaweedFS) createKey(ctx context.Context, ns string) (Key, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if listed, err := s.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(ns)}); err == nil && len(listed.AccessKeyMetadata) > 0 {
		glog.Warningf("object store: user %q already has %d access key(s) but namespace %q has no artifact Secret; issuing a new key (remove unused ones with weed shell s3.configure)",
			ns, len(listed.AccessKeyMetadata), ns)
	}
	out, err := s.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(ns)})
	if err != nil {
		return Key{}, fmt.Errorf("creating the access key of user %q through IAM at %s: %w", ns, s.cfg.IAMEndpoint, err)
	}
	if out.AccessKey == nil || aws.ToString(out.AccessKey.AccessKeyId) == "" || aws.ToString(out.AccessKey.SecretAccessKey) == "" {
		return Key{}, fmt.Errorf("creating the access key of user %q through IAM at %s: the answer has no key", ns, s.cfg.IAMEndpoint)
	}
	key := Key{AccessKey: aws.ToString(out.AccessKey.AccessKeyId), SecretKey: aws.ToString(out.AccessKey.SecretAccessKey)}
	glog.Infof("object store: issued access key %s for namespace %q", key.AccessKey, ns)
	return key, nil
}

func (s *SeaweedFS) putUserPolicy(ctx context.Context, ns string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName:       aws.String(ns),
		PolicyName:     aws.String(PolicyName(ns)),
		PolicyDocument: aws.String(UserPolicy(s.cfg.Bucket, ns)),
	})
	if err != nil {
		return fmt.Errorf("setting policy %s of user %q through IAM at %s: %w", PolicyName(ns), ns, s.cfg.IAMEndpoint, err)
	}
	return nil
}

// prepareBucket sets the listing policy and the lifecycle rule once per
// process (settings are read at start-up, so once is enough).
func (s *SeaweedFS) prepareBucket(ctx context.Context) error {
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	if s.bucketReady {
		return nil
	}
	if err := s.ensureBucketPolicy(ctx); err != nil {
		return err
	}
	if err := s.ensureLifecycle(ctx); err != nil {
		return err
	}
	s.bucketReady = true
	return nil
}

func (s *SeaweedFS) ensureBucketPolicy(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	want := BucketPolicy(s.cfg.Bucket)
	current, err := s.s3.GetBucketPolicy(ctx, s.cfg.Bucket)
	if err == nil && samePolicy(current, want) {
		return nil
	}
	if err := s.s3.SetBucketPolicy(ctx, s.cfg.Bucket, want); err != nil {
		return fmt.Errorf("setting the listing policy of bucket %q at %s: %w", s.cfg.Bucket, s.cfg.S3Endpoint, err)
	}
	glog.Infof("object store: set the listing policy of bucket %q", s.cfg.Bucket)
	return nil
}

// ensureLifecycle upserts or removes the private-artifacts expiry rule,
// keeping every other rule of the bucket.
func (s *SeaweedFS) ensureLifecycle(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	current, err := s.s3.GetBucketLifecycle(ctx, s.cfg.Bucket)
	if err != nil {
		if minio.ToErrorResponse(err).Code != "NoSuchLifecycleConfiguration" {
			return fmt.Errorf("reading the lifecycle rules of bucket %q at %s: %w", s.cfg.Bucket, s.cfg.S3Endpoint, err)
		}
		current = lifecycle.NewConfiguration()
	}
	next, changed := withRetention(current, s.cfg.RetentionDays)
	if !changed {
		return nil
	}
	if err := s.s3.SetBucketLifecycle(ctx, s.cfg.Bucket, next); err != nil {
		return fmt.Errorf("setting the lifecycle rules of bucket %q at %s: %w", s.cfg.Bucket, s.cfg.S3Endpoint, err)
	}
	glog.Infof("object store: lifecycle rule %q of bucket %q set for %d days (0: removed)", LifecycleRuleID, s.cfg.Bucket, max(s.cfg.RetentionDays, 0))
	return nil
}

// withRetention returns the rules with ours set for days (> 0) or removed,
// and whether that changed anything.
func withRetention(current *lifecycle.Configuration, days int) (*lifecycle.Configuration, bool) {
	next := lifecycle.NewConfiguration()
	changed := false
	found := false
	for _, r := range current.Rules {
		if r.ID != LifecycleRuleID {
			next.Rules = append(next.Rules, r)
			continue
		}
		found = true
		if days > 0 && isRetentionRule(r, days) {
			next.Rules = append(next.Rules, r)
			continue
		}
		changed = true
	}
	if days > 0 && (!found || changed) {
		next.Rules = append(next.Rules, retentionRule(days))
		changed = true
	}
	return next, changed
}

func retentionRule(days int) lifecycle.Rule {
	return lifecycle.Rule{
		ID:         LifecycleRuleID,
		Status:     "Enabled",
		RuleFilter: lifecycle.Filter{Prefix: privateArtifacts},
		Expiration: lifecycle.Expiration{Days: lifecycle.ExpirationDays(days)},
	}
}

func isRetentionRule(r lifecycle.Rule, days int) bool {
	return r.Status == "Enabled" && r.RuleFilter.Prefix == privateArtifacts && int(r.Expiration.Days) == days
}
