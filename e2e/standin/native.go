package standin

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/apirecords"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/publish"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/runtoken"
)

// isNative tells KFP master's launcher flags (the API server line) from
// KFP 2.x's (MLMD).
func isNative(flags map[string]string) bool {
	_, task := flags["--task_id"]
	_, parent := flags["--parent_task_id"]
	return task || parent
}

// apiClient dials the API server the flags name (plaintext, as in the
// suite) and authenticates with the pod's projected run token, as KFP
// master's launcher does (none mounted: no authentication).
func apiClient(flags map[string]string) (*kfpapi.Client, func(), error) {
	addr := net.JoinHostPort(flags["--ml_pipeline_server_address"], flags["--ml_pipeline_server_port"])
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithUnaryInterceptor(retry))
	if err != nil {
		return nil, nil, fmt.Errorf("ml-pipeline %s: %w", addr, err)
	}
	return kfpapi.New(conn, addr, runtoken.FileIfPresent(runtoken.KFPTokenPath)), func() { _ = conn.Close() }, nil
}

// retry gives each call 30 s and tries again, as the MLMD clients of the
// test side do, while the server is unreachable, and, for reads, while it
// is too slow to answer (a starved machine); writes are not repeated once
// sent.
func retry(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	name := method[strings.LastIndexByte(method, '/')+1:]
	read := strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || name == "FindCachedTask"
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := invoker(actx, method, req, reply, cc, opts...)
		cancel()
		code := status.Code(err)
		if err == nil || attempt == 6 || !(code == codes.Unavailable || read && code == codes.DeadlineExceeded) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// namespaceFlag is --namespace, or the pod's namespace when the flag came
// unexpanded ($(NAMESPACE)).
func namespaceFlag(flags map[string]string) string {
	if ns := flags["--namespace"]; ns != "" && !strings.HasPrefix(ns, "$(") {
		return ns
	}
	return podNamespace()
}

func iterationFlag(flags map[string]string) (*int64, error) {
	v, ok := flags["--iteration_index"]
	if !ok || v == "" || v == "-1" {
		return nil, nil
	}
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("--iteration_index: %w", err)
	}
	return &i, nil
}

// runNative runs a native launcher invocation: a container task, or an
// importer pod.
func runNative(ctx context.Context, flags map[string]string, user []string, stdout, stderr io.Writer) (int, error) {
	c, closeConn, err := apiClient(flags)
	if err != nil {
		return 1, err
	}
	defer closeConn()
	iter, err := iterationFlag(flags)
	if err != nil {
		return 1, err
	}
	ns := namespaceFlag(flags)
	if flags["--executor_type"] == "importer" {
		spec := &pipelinespec.PipelineDeploymentConfig_ImporterSpec{}
		if err := lenient.Unmarshal([]byte(flags["--importer_spec"]), spec); err != nil {
			return 1, fmt.Errorf("--importer_spec: %w", err)
		}
		_, err := publish.Import(ctx, c, publish.Importer{RunID: flags["--run_id"], ParentTaskID: flags["--parent_task_id"],
			TaskName: flags["--task_name"], Namespace: ns, Iteration: iter, Spec: spec})
		if err != nil {
			return 1, err
		}
		return 0, nil
	}
	launch, err := nativeLaunch(ctx, c, flags)
	if err != nil {
		return 1, err
	}
	q := Query{Namespace: ns, TaskID: flags["--task_id"], Task: flags["--task_name"]}
	return runTask(ctx, launch, q, user, stdout, stderr, func(ans *Answer, params map[string]*structpb.Value) error {
		return publish.Publish(ctx, c, publish.Task{RunID: launch.RunID, TaskID: flags["--task_id"], TaskName: flags["--task_name"],
			Namespace: ns, Iteration: iter, Input: launch.Input, Parameters: params, Failed: ans.Failed, Message: "user code failed"})
	})
}

// nativeLaunch reads the executor input from the flags and the task's
// component from the run's stored spec (the native launcher gets no
// component spec flag).
func nativeLaunch(ctx context.Context, c *kfpapi.Client, flags map[string]string) (*drivertest.Launch, error) {
	l := &drivertest.Launch{PipelineName: flags["--pipeline_name"], RunID: flags["--run_id"], Input: &pipelinespec.ExecutorInput{}}
	if err := lenient.Unmarshal([]byte(flags["--executor_input"]), l.Input); err != nil {
		return nil, fmt.Errorf("--executor_input: %w", err)
	}
	task, err := c.GetTask(ctx, l.RunID, flags["--task_id"])
	if err != nil {
		return nil, err
	}
	_, spec, err := apirecords.ReadSpec(ctx, c, l.RunID)
	if err != nil {
		return nil, err
	}
	if l.Component, err = apirecords.ComponentAt(spec, task.GetScopePath()); err != nil {
		return nil, err
	}
	return l, nil
}
