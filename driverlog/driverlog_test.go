package driverlog

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/objectstore"
)

func TestParseURI(t *testing.T) {
	for uri, want := range map[string]string{
		"minio://mlpipeline/a/b.log": "mlpipeline a/b.log",
		"s3://bucket/k":              "bucket k",
		"gs://bucket/k":              "",
		"minio://bucket":             "",
		"minio:///k":                 "",
		"minio://b/../other/k":       "",
		"http://host:9000/b/k":       "",
	} {
		b, k, ok := ParseURI(uri)
		got := ""
		if ok {
			got = b + " " + k
		}
		if got != want {
			t.Errorf("%s: %q, want %q", uri, got, want)
		}
	}
}

func TestRenderIsBoundedAndSaysTheDecision(t *testing.T) {
	req := &driver.Request{Type: driver.Container, TaskName: "train", Namespace: "team-a", RunID: "r1", IterationIndex: 2}
	res := &driver.Result{ExecutionID: 7, Message: "train: execution 7, 2 inputs resolved; cache miss", PodSpecPatch: `{"containers":[]}`,
		CachedDecision: new(bool)}
	out := string(Render(req, res, time.Unix(0, 0), 3*time.Millisecond))
	for _, want := range []string{"driver: CONTAINER, task \"train\", namespace team-a, run r1", "iteration: 2",
		"decision: train: execution 7, 2 inputs resolved; cache miss", "execution-id: 7", "cached-decision: false",
		`pod-spec-patch: {"containers":[]}`, "took: 3ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	res.PodSpecPatch = strings.Repeat("x", 1<<20)
	if big := Render(req, res, time.Unix(0, 0), 0); len(big) != MaxLogBytes || !strings.HasSuffix(string(big), "[log cut at 64 KiB]\n") {
		t.Errorf("a 1 MiB patch gives a %d-byte log", len(big))
	}
}

// outcomes records what an Uploader reports.
type outcomes struct {
	mu   sync.Mutex
	seen []string
}

func (o *outcomes) observe(s string) { o.mu.Lock(); o.seen = append(o.seen, s); o.mu.Unlock() }

func (o *outcomes) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		for _, s := range o.seen {
			if s == want {
				o.mu.Unlock()
				return
			}
		}
		o.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q outcome within 30 s (seen %v)", want, o.seen)
}

func TestFullQueueDropsWithoutWaiting(t *testing.T) {
	var o outcomes
	u, err := NewUploader(Config{Endpoint: "http://127.0.0.1:1", Key: objectstore.Key{AccessKey: "a", SecretKey: "b"}, QueueSize: 1}, o.observe)
	if err != nil {
		t.Fatal(err)
	}
	// No worker runs: the first log waits in the queue, the second is dropped.
	if !u.Submit("minio://b/one", []byte("1")) || u.Submit("minio://b/two", []byte("2")) || u.Submit("gs://b/k", nil) {
		t.Fatal("queue of one accepted a second log or an unsupported URI")
	}
	if strings.Join(o.seen, ",") != Dropped+","+Unsupported {
		t.Fatalf("outcomes %v", o.seen)
	}
}

func TestNewUploaderChecksItsSettings(t *testing.T) {
	key := objectstore.Key{AccessKey: "a", SecretKey: "b"}
	for _, c := range []Config{{Endpoint: "minio-service:9000", Key: key}, {Endpoint: "http://h:1/path", Key: key}, {Endpoint: "http://h:1"}} {
		if _, err := NewUploader(c, nil); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// A step's log lands at the URI its result names, readable with the key,
// after the reply; an upload that fails costs only the log.
func TestRecorderKeepsTheLogAfterReplying(t *testing.T) {
	server := testenv.StartSeaweedFSFor(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := objectstore.Key{AccessKey: server.AdminAccessKey, SecretKey: server.AdminSecretKey}
	c, err := objectstore.NewS3Client(server.S3URL, admin, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(ctx, "mlpipeline", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	var o outcomes
	u, err := NewUploader(Config{Endpoint: server.S3URL, Key: admin}, o.observe)
	if err != nil {
		t.Fatal(err)
	}
	go u.Run(ctx)
	uri := "minio://mlpipeline/private-artifacts/team-a/v2/artifacts/p/r1/driver-logs/x.log"
	next := driver.Func(func(context.Context, *driver.Request) (*driver.Result, error) {
		return &driver.Result{ExecutionID: 3, Message: "train: cache miss", LogURI: uri}, nil
	})
	res, err := Recorder{Next: next, Uploader: u}.Run(ctx, &driver.Request{Type: driver.Container, TaskName: "train", IterationIndex: -1})
	if err != nil || res.ExecutionID != 3 {
		t.Fatalf("Recorder changed the result: %+v, %v", res, err)
	}
	o.waitFor(t, Uploaded)
	obj, err := c.GetObject(ctx, "mlpipeline", "private-artifacts/team-a/v2/artifacts/p/r1/driver-logs/x.log", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(obj)
	if err != nil || !strings.Contains(string(body), "decision: train: cache miss") {
		t.Fatalf("kept log %q, %v", body, err)
	}

	// An object store that is down: the upload fails, the step does not.
	ports, err := testenv.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	var downOutcomes outcomes
	down, err := NewUploader(Config{Endpoint: "http://127.0.0.1:" + strconv.Itoa(ports[0]), Key: admin, Timeout: 2 * time.Second}, downOutcomes.observe)
	if err != nil {
		t.Fatal(err)
	}
	go down.Run(ctx)
	if res, err := (Recorder{Next: next, Uploader: down}).Run(ctx, &driver.Request{IterationIndex: -1}); err != nil || res.ExecutionID != 3 {
		t.Fatalf("a failing upload changed the step: %+v, %v", res, err)
	}
	downOutcomes.waitFor(t, Failed)

	// Driver errors are passed through and log nothing.
	boom := errors.New("boom")
	erring := driver.Func(func(context.Context, *driver.Request) (*driver.Result, error) { return nil, boom })
	before := len(o.seen)
	if _, err := (Recorder{Next: erring, Uploader: u}).Run(ctx, &driver.Request{}); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the driver's", err)
	}
	if len(o.seen) != before || len(u.jobs) != 0 {
		t.Fatalf("a failed step queued a log")
	}
}
