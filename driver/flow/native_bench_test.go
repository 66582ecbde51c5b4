package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/flow"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
)

// nativeBenchRun runs the producer half of the bench spec on the native
// line (its outputs published as KFP master's launcher does) and returns a
// CONTAINER request for the consumer.
func nativeBenchRun(tb testing.TB, prior int) (*flow.Service, *kfpapitest.Server, *driver.Request) {
	tb.Helper()
	p, err := drivertest.Load(benchSpecFile)
	if err != nil {
		tb.Fatal(err)
	}
	svc, srv := nativeEnv(tb, p, "bench")
	ctx := context.Background()
	root := nativeReq(driver.RootDAG, "bench", "", "")
	root.PipelineName = "bench"
	n, _ := structpb.NewValue(7.0)
	root.RuntimeConfig = &pipelinespec.PipelineJob_RuntimeConfig{ParameterValues: map[string]*structpb.Value{"n": n}}
	res, err := svc.Run(ctx, root)
	if err != nil {
		tb.Fatal(err)
	}
	produce := nativeReq(driver.Container, "bench", res.TaskID, "produce")
	pres, err := svc.Run(ctx, produce)
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	publishProducer(tb, conn, "bench", launchTaskID(tb, pres.PodSpecPatch))
	runs := pb.NewRunServiceClient(conn)
	for i := range prior {
		_, err := runs.CreateTask(ctx, &pb.CreateTaskRequest{RunId: "bench", Task: &pb.PipelineTask{RunId: "bench",
			Name: fmt.Sprintf("filler-%d", i), Type: pb.PipelineTask_RUNTIME, State: pb.PipelineTask_SUCCEEDED,
			ScopePath: fmt.Sprintf("root.filler-%d", i), ParentTaskId: &res.TaskID}})
		if err != nil {
			tb.Fatal(err)
		}
	}
	req := nativeReq(driver.Container, "bench", res.TaskID, "consume")
	req.PipelineName = "bench"
	return svc, srv, req
}

// BenchmarkNativeContainer3Inputs is BenchmarkContainer3Inputs on the
// native line: one CONTAINER call resolving a pipeline input, an upstream
// parameter and an upstream artifact against the API test server over
// loopback gRPC, with 10 or 1,000 earlier tasks in the same DAG. Each
// iteration is a new task (another iteration index).
func BenchmarkNativeContainer3Inputs(b *testing.B) {
	for _, prior := range []int{10, 1000} {
		b.Run(fmt.Sprintf("prior=%d", prior), func(b *testing.B) {
			svc, srv, req := nativeBenchRun(b, prior)
			if _, err := svc.Run(context.Background(), req); err != nil { // warm: the run's spec
				b.Fatal(err)
			}
			durations := make([]time.Duration, 0, b.N)
			start := srv.TotalCalls()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := *req
				r.IterationIndex = i
				t0 := time.Now()
				res, err := svc.Run(context.Background(), &r)
				durations = append(durations, time.Since(t0))
				if err != nil || res.PodSpecPatch == "" {
					b.Fatal(res, err)
				}
			}
			b.StopTimer()
			sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
			b.ReportMetric(float64(durations[len(durations)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(srv.TotalCalls()-start)/float64(b.N), "rpcs/op")
		})
	}
}

// launchTaskID is the task a CONTAINER result's launcher is told to run.
func launchTaskID(tb testing.TB, patch string) string {
	tb.Helper()
	var spec corev1.PodSpec
	if err := json.Unmarshal([]byte(patch), &spec); err != nil {
		tb.Fatal(err)
	}
	for _, c := range spec.Containers {
		if i := slices.Index(c.Command, "--task_id"); i >= 0 && i+1 < len(c.Command) {
			return c.Command[i+1]
		}
	}
	tb.Fatalf("no --task_id in %s", patch)
	return ""
}

// publishProducer records the bench producer's outputs as KFP master's
// launcher does: the parameter on its task, the artifact created for it
// (the server links it as the task's output), the task succeeded.
func publishProducer(tb testing.TB, conn grpc.ClientConnInterface, runID, taskID string) {
	tb.Helper()
	ctx := context.Background()
	uri := "minio://mlpipeline/v2/artifacts/bench/produce/data"
	_, err := pb.NewArtifactServiceClient(conn).CreateArtifact(ctx, &pb.CreateArtifactRequest{RunId: runID, TaskId: taskID,
		ProducerKey: "data", Artifact: &pb.Artifact{Name: "data", Type: pb.Artifact_Dataset, Uri: &uri, Namespace: drivertest.Namespace}})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = pb.NewRunServiceClient(conn).UpdateTask(ctx, &pb.UpdateTaskRequest{RunId: runID, TaskId: taskID, Task: &pb.PipelineTask{
		TaskId: taskID, RunId: runID, State: pb.PipelineTask_SUCCEEDED,
		Outputs: &pb.PipelineTask_InputOutputs{Parameters: []*pb.PipelineTask_InputOutputs_IOParameter{{
			ParameterKey: "out", Value: structpb.NewStringValue("hello"), Type: pb.IOType_OUTPUT, Producer: &pb.IOProducer{TaskName: "produce"}}}},
	}})
	if err != nil {
		tb.Fatal(err)
	}
}
