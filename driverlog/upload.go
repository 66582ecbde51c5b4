package driverlog

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/golang/glog"
	"github.com/minio/minio-go/v7"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
)

// Outcomes an Uploader reports to its observer (metrics).
const (
	Uploaded    = "uploaded"
	Failed      = "failed"
	Dropped     = "dropped"     // the queue was full
	Unsupported = "unsupported" // not a minio:// or s3:// URI
)

// Config says where logs go.
type Config struct {
	// Endpoint is the object store's S3 API, http(s)://host[:port].
	Endpoint string
	Key      objectstore.Key
	Region   string
	// QueueSize bounds the logs waiting for upload (default 256).
	QueueSize int
	// Timeout bounds one upload (default 10 s).
	Timeout time.Duration
}

// Uploader writes logs in the background, one at a time.
type Uploader struct {
	cfg     Config
	client  *minio.Client
	jobs    chan job
	observe func(outcome string)
}

type job struct {
	bucket, key string
	body        []byte
}

// NewUploader checks the endpoint; it does not dial. observe (may be nil)
// is told every outcome.
func NewUploader(cfg Config, observe func(outcome string)) (*Uploader, error) {
	if cfg.Key.AccessKey == "" || cfg.Key.SecretKey == "" {
		return nil, fmt.Errorf("driver logs endpoint %s: no access key", cfg.Endpoint)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	client, err := objectstore.NewS3Client(cfg.Endpoint, cfg.Key, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("driver logs endpoint: %w", err)
	}
	if observe == nil {
		observe = func(string) {}
	}
	return &Uploader{cfg: cfg, client: client, jobs: make(chan job, cfg.QueueSize), observe: observe}, nil
}

// Submit queues body for uri without waiting; false when it was not
// queued (unsupported URI or a full queue).
func (u *Uploader) Submit(uri string, body []byte) bool {
	bucket, key, ok := ParseURI(uri)
	if !ok {
		u.observe(Unsupported)
		return false
	}
	select {
	case u.jobs <- job{bucket: bucket, key: key, body: body}:
		return true
	default:
		u.observe(Dropped)
		glog.Warningf("driver log for %s dropped: %d uploads already waiting", uri, cap(u.jobs))
		return false
	}
}

// Run uploads until ctx is done.
func (u *Uploader) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-u.jobs:
			u.upload(ctx, j)
		}
	}
}

func (u *Uploader) upload(ctx context.Context, j job) {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.Timeout)
	defer cancel()
	_, err := u.client.PutObject(ctx, j.bucket, j.key, bytes.NewReader(j.body), int64(len(j.body)),
		minio.PutObjectOptions{ContentType: "text/plain; charset=utf-8"})
	if err != nil {
		u.observe(Failed)
		glog.Warningf("driver log s3://%s/%s not kept: %v", j.bucket, j.key, err)
		return
	}
	u.observe(Uploaded)
}

// ParseURI splits minio://bucket/key and s3://bucket/key.
func ParseURI(uri string) (bucket, key string, ok bool) {
	for _, scheme := range []string{"minio://", "s3://"} {
		if rest, found := strings.CutPrefix(uri, scheme); found {
			bucket, key, _ = strings.Cut(rest, "/")
			return bucket, key, bucket != "" && key != "" && !strings.Contains(key, "..")
		}
	}
	return "", "", false
}
