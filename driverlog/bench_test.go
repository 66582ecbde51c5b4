package driverlog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
)

// BenchmarkRecorderOverhead is what keeping logs adds to a step's reply:
// rendering the log and queueing it (the upload is the worker's).
func BenchmarkRecorderOverhead(b *testing.B) {
	u, err := NewUploader(Config{Endpoint: "http://127.0.0.1:1", Key: objectstore.Key{AccessKey: "a", SecretKey: "b"}, QueueSize: 1 << 20}, nil)
	if err != nil {
		b.Fatal(err)
	}
	res := &driver.Result{ExecutionID: 7, Message: "train: execution 7, 3 inputs resolved; cache miss",
		PodSpecPatch: strings.Repeat("x", 2048), LogURI: "minio://mlpipeline/p/r/driver-logs/x.log"}
	rec := Recorder{Next: driver.Func(func(context.Context, *driver.Request) (*driver.Result, error) { return res, nil }), Uploader: u}
	req := &driver.Request{Type: driver.Container, TaskName: "train", IterationIndex: -1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rec.Run(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		select { // keep the queue from filling: the worker's side is measured below
		case <-u.jobs:
		default:
		}
	}
}

// BenchmarkUpload is the worker's cost per log against a real SeaweedFS on
// loopback: one PutObject of a 2.5 KiB log.
func BenchmarkUpload(b *testing.B) {
	server := testenv.StartSeaweedFSFor(b)
	admin := objectstore.Key{AccessKey: server.AdminAccessKey, SecretKey: server.AdminSecretKey}
	c, err := objectstore.NewS3Client(server.S3URL, admin, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := c.MakeBucket(ctx, "mlpipeline", minio.MakeBucketOptions{}); err != nil {
		b.Fatal(err)
	}
	u, err := NewUploader(Config{Endpoint: server.S3URL, Key: admin}, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := Render(&driver.Request{Type: driver.Container, TaskName: "train", IterationIndex: -1},
		&driver.Result{ExecutionID: 7, Message: "train: cache miss", PodSpecPatch: strings.Repeat("x", 2048)}, time.Now(), time.Millisecond)
	u.upload(ctx, job{bucket: "mlpipeline", key: "warm-up.log", body: body}) // the first write waits for the filer's lock ring
	b.ResetTimer()
	for b.Loop() {
		u.upload(ctx, job{bucket: "mlpipeline", key: "p/r/driver-logs/x.log", body: body})
	}
}
