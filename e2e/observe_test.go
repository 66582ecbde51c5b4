package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	pb "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/webhook"
)

// testDriverErrorInArgoGet: a driver call that fails (add_numbers run
// without its required parameters) shows the driver's message on its node
// in the real `argo get`.
func testDriverErrorInArgoGet(t *testing.T, s *Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	wf, err := s.Run(ctx, "driver-error", "add_numbers.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.ArgoCLI(ctx, "get", wf.Name, "-n", wf.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Status.Phase != wfv1.WorkflowFailed {
		t.Fatalf("phase %s, want Failed\n%s", wf.Status.Phase, out)
	}
	t.Logf("argo get %s:\n%s", wf.Name, out)
	line := lineWith(out, "add-numbers-driver")
	want := `resolving input "a" of task "add-numbers": parent DAG input "a" not found`
	if !strings.Contains(line, want) || !strings.Contains(line, "✖") {
		t.Errorf("argo get line of add-numbers-driver: %q, want a failed node with %q\n%s", line, want, out)
	}
}

// testSidecarInAgentPod looks at the sidecar in a real agent pod while its
// workflow runs (executor held): from the sidecar container's own process
// (read through /proc on the node) it runs as uid and gid 8737 with no
// capabilities, no privilege escalation and a seccomp filter, on a
// read-only root filesystem, and sees Argo's token file; the driver steps
// that already succeeded are the proof it read that token. Then a call with
// a wrong token, made from inside the pod (the agent's main container,
// whose image has a shell), is refused with 403 and writes nothing.
func testSidecarInAgentPod(t *testing.T, s *Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	ns, hold := "sidecar-in-agent-pod", make(chan struct{})
	s.SetBehaviour(ns, Behaviour{Hold: hold})
	defer close(hold)
	wf := submit(ctx, t, s, ns, "hello_world.yaml")
	if err := s.WaitNode(ctx, ns, wf.Name, "echo-driver", wfv1.NodeSucceeded); err != nil {
		t.Fatal(err)
	}
	proc, err := s.SidecarProcess(ctx, ns, AgentPodName(wf.Name))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sidecar process: %+v", proc)
	if err := agentPatchRate(ctx, s, ns, AgentPodName(wf.Name)); err != nil {
		t.Error(err)
	}
	if proc.UID != pluginconfig.ArgoTokenUID || proc.GID == 0 || proc.CapEff != 0 || !proc.NoNewPrivs || proc.Seccomp != 2 ||
		!proc.ReadOnlyRoot || !proc.TokenReadable {
		t.Errorf("sidecar process %+v: want uid 8737, a non-root group, no capabilities, no_new_privs, seccomp filter, read-only root, token readable", proc)
	}
	before, err := s.Executions(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.ExecInPod(ctx, ns, AgentPodName(wf.Name), "main", "wget", "-q", "-O-",
		"--header", "Authorization: Bearer not-the-token", "--header", "Content-Type: application/json",
		"--post-data", `{"workflow":{"metadata":{"name":"`+wf.Name+`","namespace":"`+ns+`","uid":"`+string(wf.UID)+`"}},`+
			`"template":{"name":"x","plugin":{"driver-plugin":{"args":{"type":"ROOT_DAG","pipeline_name":"p","run_id":"`+string(wf.UID)+`","component":"{}","runtime_config":"{}"}}}}}`,
		"http://127.0.0.1:"+strconv.Itoa(pluginconfig.Port)+"/api/v1/template.execute")
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("wrong-token call from inside the pod: err %v, output %q; want 403", err, out)
	}
	after, err := s.Executions(ctx, wf)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("a refused call wrote to MLMD: %d executions before, %d after", len(before), len(after))
	}
	log, err := s.ArgoCLI(ctx, "logs", wf.Name, AgentPodName(wf.Name), "-c", pluginconfig.ContainerName, "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "missing or wrong bearer token") {
		t.Errorf("plugin log should show the refusal:\n%s", log)
	}
}

// testArgoLogs: while a workflow runs (its executor pod held), the real
// `argo logs <wf> <agent pod> -c driver-plugin` shows the plugin's call
// lines, read through the apiserver from the real kubelet, and
// `argo get` shows the driver's decision on the node.
func testArgoLogs(t *testing.T, s *Stack) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	ns, hold := "argo-logs", make(chan struct{})
	s.SetBehaviour(ns, Behaviour{Hold: hold})
	defer func() {
		if hold != nil {
			close(hold)
		}
	}()
	wf := submit(ctx, t, s, ns, "hello_world.yaml")
	if err := s.WaitNode(ctx, ns, wf.Name, "echo-driver", wfv1.NodeSucceeded); err != nil {
		t.Fatal(err)
	}
	out, err := s.ArgoCLI(ctx, "logs", wf.Name, AgentPodName(wf.Name), "-c", pluginconfig.ContainerName, "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("argo logs %s %s -c %s:\n%s", wf.Name, AgentPodName(wf.Name), pluginconfig.ContainerName, out)
	for _, want := range []string{"call namespace=" + ns + " workflow=" + wf.Name, "task=echo type=CONTAINER phase=Succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("argo logs: no %q in\n%s", want, out)
		}
	}
	get, err := s.ArgoCLI(ctx, "get", wf.Name, "-n", ns)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(get, "Running") || !strings.Contains(lineWith(get, "echo-driver"), "echo: execution") {
		t.Errorf("argo get while running:\n%s", get)
	}
	close(hold)
	hold = nil
	done, err := s.Wait(ctx, ns, wf.Name)
	if err != nil || done.Status.Phase != wfv1.WorkflowSucceeded {
		t.Fatalf("after release: %v %v", err, done.Status.Phase)
	}
}

// testCacheHit: the same workflow run twice in one namespace; the second
// run's container drivers hit the cache (entries recorded by the launcher
// stand-in through the ml-pipeline test server), so no executor pod runs,
// and the downstream task's inputs still resolve from the cached
// producer's outputs.
func testCacheHit(t *testing.T, s *Stack, file, producer, consumer string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*caseTimeout)
	defer cancel()
	ns := NamespaceFor("cache-" + file)
	s.SetBehaviour(ns, Behaviour{Cache: true})
	first := runCase(t, s, ns, tcase{file: file, b: Behaviour{Cache: true}})
	if len(first.Of(producer)) != 1 || len(first.Of(consumer)) != 1 {
		t.Fatalf("first run: %s", first)
	}
	second := runCase(t, s, ns, tcase{file: file, b: Behaviour{Cache: true}})
	if len(second.Launches) != 0 {
		t.Errorf("second run started executor pods: %s", second)
	}
	for _, task := range []string{producer, consumer} {
		n := second.DriverNode(task + "-driver")
		if Output(n, "cached-decision") != "true" || !strings.Contains(n.Message, "cache hit") {
			t.Errorf("second run, %s-driver: %+v, want a cache hit", task, n)
		}
	}
	execs, err := s.Executions(ctx, second.Workflow)
	if err != nil {
		t.Fatal(err)
	}
	checkCached(ctx, t, s, ByTask(execs, producer), ByTask(execs, consumer), first.Of(consumer)[0].Execution)
}

// checkCached: both second-run executions are CACHED, and the consumer's
// recorded inputs (parameters and input artifacts) equal the first run's:
// resolved from the cached producer.
func checkCached(ctx context.Context, t *testing.T, s *Stack, producer, consumer []*mlmd.Execution, firstConsumer *mlmd.Execution) {
	t.Helper()
	if len(producer) != 1 || len(consumer) != 1 {
		t.Fatalf("second run executions: %d producer, %d consumer", len(producer), len(consumer))
	}
	for _, e := range []*mlmd.Execution{producer[0], consumer[0]} {
		if e.State() != pb.Execution_CACHED {
			t.Errorf("second run, %s: state %s, want CACHED", e.TaskName(), e.State())
		}
	}
	got, err := recordedInputs(ctx, s, consumer[0])
	if err != nil {
		t.Fatal(err)
	}
	want, err := recordedInputs(ctx, s, firstConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got == "{} []" {
		t.Errorf("second run, %s inputs %s, want the first run's %s", consumer[0].TaskName(), got, want)
	}
}

func recordedInputs(ctx context.Context, s *Stack, e *mlmd.Execution) (string, error) {
	uris, err := s.InputURIs(ctx, e.ID())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %v", jsonOfStruct(e.Inputs()), uris), nil
}

func submit(ctx context.Context, t *testing.T, s *Stack, ns, file string) *wfv1.Workflow {
	t.Helper()
	if err := s.PrepareNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	wf, err := Compiled(file)
	if err != nil {
		t.Fatal(err)
	}
	created, err := s.Submit(ctx, ns, wf)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func nodeNamed(wf *wfv1.Workflow, display string) *wfv1.NodeStatus {
	for _, n := range wf.Status.Nodes {
		if n.DisplayName == display {
			return &n
		}
	}
	return nil
}

func jsonOfStruct(m map[string]*structpb.Value) string {
	b, _ := protojson.Marshal(&structpb.Struct{Fields: m})
	return normJSON(string(b))
}

// agentPatchRate checks that the admission webhook capped the agent's patch
// rate (the suite's controller passes 1 s) and that the agent runs with it,
// and that it raised the agent containers' CPU limit.
func agentPatchRate(ctx context.Context, s *Stack, ns, pod string) error {
	p, err := s.Cluster.Client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return err
	}
	want, got := webhook.DefaultAgentPatchRate.String(), "(unset)"
	for _, c := range p.Spec.Containers {
		for _, e := range c.Env {
			if c.Name == "main" && e.Name == "ARGO_AGENT_PATCH_RATE" {
				got = e.Value
			}
		}
	}
	if got != want {
		return fmt.Errorf("agent pod %s: ARGO_AGENT_PATCH_RATE=%s, want %s (the webhook's)", pod, got, want)
	}
	// The webhook also raised the CPU limit of Argo's agent containers.
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		if c.Name != "init" && c.Name != "main" {
			continue
		}
		if cpu := c.Resources.Limits.Cpu(); cpu.Cmp(webhook.DefaultAgentCPULimit) != 0 {
			return fmt.Errorf("agent pod %s: container %s CPU limit %s, want %s (the webhook's)", pod, c.Name, cpu, &webhook.DefaultAgentCPULimit)
		}
	}
	log, err := s.ArgoCLI(ctx, "logs", p.Labels["workflows.argoproj.io/workflow"], pod, "-c", "main", "-n", ns)
	if err != nil {
		return err
	}
	if !strings.Contains(log, "requeueTime="+want) {
		return fmt.Errorf("agent log lacks requeueTime=%s:\n%s", want, log)
	}
	return nil
}
