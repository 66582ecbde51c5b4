package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/webhook"
)

// check is one assertion on a completed run. Checks look at resolved
// values downstream: what a later task's executor input (in the pod spec
// patch its driver returned) or the executor pod Argo created contains.
type check func(r *Result) error

// param: every run of task got input parameter name = want (JSON-equal).
func param(task, name string, want any) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		for _, l := range ls {
			got, ok := l.Launch.Input.GetInputs().GetParameterValues()[name]
			if !ok {
				return fmt.Errorf("%s: no input parameter %q (has %v)", task, name, keys(l.Launch.Input.GetInputs().GetParameterValues()))
			}
			if !jsonEqual(got, want) {
				return fmt.Errorf("%s: input %s = %s, want %s", task, name, jsonOf(got), mustJSON(want))
			}
		}
		return nil
	}
}

// paramValues: the runs of task (a loop) got exactly these values of input
// name, in any order.
func paramValues(task, name string, wants ...any) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		var got, want []string
		for _, l := range ls {
			got = append(got, jsonOf(l.Launch.Input.GetInputs().GetParameterValues()[name]))
		}
		for _, w := range wants {
			want = append(want, normJSON(mustJSON(w)))
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: values of input %s over %d runs = %v, want %v", task, name, len(ls), got, want)
		}
		return nil
	}
}

// artifactFrom: every run of task got input artifact input from one of the
// artifacts producer's runs wrote as output (same URI, or under it for
// list outputs).
func artifactFrom(task, input, producer, output string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		ps, err := launchesOf(r, producer)
		if err != nil {
			return err
		}
		var written []string
		for _, p := range ps {
			for _, a := range p.Launch.Input.GetOutputs().GetArtifacts()[output].GetArtifacts() {
				written = append(written, a.GetUri())
			}
		}
		for _, l := range ls {
			arts := l.Launch.Input.GetInputs().GetArtifacts()[input].GetArtifacts()
			if len(arts) == 0 {
				return fmt.Errorf("%s: no input artifact %q", task, input)
			}
			for _, a := range arts {
				if !underAny(a.GetUri(), written) {
					return fmt.Errorf("%s: input artifact %s = %s, not one of %s.%s %v", task, input, a.GetUri(), producer, output, written)
				}
			}
		}
		return nil
	}
}

// ran: task ran exactly n times (0: skipped by a condition, or cached).
func ran(task string, n int) check {
	return func(r *Result) error {
		if got := len(r.Of(task)); got != n {
			return fmt.Errorf("%s ran %d times, want %d (ran: %v)", task, got, n, r.Tasks())
		}
		return nil
	}
}

// driverMessage: the plugin node shown as node in `argo get` has a message
// containing want.
func driverMessage(node, want string) check {
	return func(r *Result) error {
		n := r.DriverNode(node)
		if n == nil {
			return fmt.Errorf("no plugin node %q", node)
		}
		if !strings.Contains(n.Message, want) {
			return fmt.Errorf("plugin node %s: message %q, want it to contain %q", node, n.Message, want)
		}
		return nil
	}
}

// taskFailed: every executor pod of task failed.
func taskFailed(task string) check {
	return eachLaunch(task, func(l *Launched) error {
		if l.Node.Phase != wfv1.NodeFailed {
			return fmt.Errorf("%s: executor %s, want Failed", task, l.Node.Phase)
		}
		return nil
	})
}

// ifRan applies c only when task ran (whether it does depends on timing).
func ifRan(task string, c check) check {
	return func(r *Result) error {
		if len(r.Of(task)) == 0 {
			return nil
		}
		return c(r)
	}
}

func launchesOf(r *Result, task string) ([]*Launched, error) {
	ls := r.Of(task)
	if len(ls) == 0 {
		return nil, fmt.Errorf("task %s did not run (ran: %v)", task, r.Tasks())
	}
	return ls, nil
}

func underAny(uri string, prefixes []string) bool {
	for _, p := range prefixes {
		if uri == p || strings.HasPrefix(uri, p+"/") {
			return true
		}
	}
	return false
}

func jsonOf(v *structpb.Value) string {
	if v == nil {
		return "<none>"
	}
	b, _ := protojson.Marshal(v)
	return normJSON(string(b))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// normJSON re-encodes JSON so that formatting differences vanish.
func normJSON(s string) string {
	var x any
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		return s
	}
	return mustJSON(x)
}

func jsonEqual(v *structpb.Value, want any) bool { return jsonOf(v) == normJSON(mustJSON(want)) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// paramHas: every run of task got input name whose JSON contains want.
func paramHas(task, name, want string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		for _, l := range ls {
			got := jsonOf(l.Launch.Input.GetInputs().GetParameterValues()[name])
			if !strings.Contains(got, want) {
				return fmt.Errorf("%s: input %s = %s, want it to contain %s", task, name, got, want)
			}
		}
		return nil
	}
}

// artifactURIs: every run of task got exactly these URIs as input input.
func artifactURIs(task, input string, uris ...string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		for _, l := range ls {
			var got []string
			for _, a := range l.Launch.Input.GetInputs().GetArtifacts()[input].GetArtifacts() {
				got = append(got, a.GetUri())
			}
			if !reflect.DeepEqual(got, uris) {
				return fmt.Errorf("%s: input artifact %s = %v, want %v", task, input, got, uris)
			}
		}
		return nil
	}
}

// artifactCount: every run of task got n artifacts as input input (a
// collected list).
func artifactCount(task, input string, n int) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if got := len(l.Launch.Input.GetInputs().GetArtifacts()[input].GetArtifacts()); got != n {
				return fmt.Errorf("%s: input artifact list %s has %d artifacts, want %d", task, input, got, n)
			}
		}
		return nil
	}
}

// outputUnderRoot: task's output artifact is provisioned under the
// pipeline root of the namespace's kfp-launcher ConfigMap (read by the
// driver as the plugin's account).
func outputUnderRoot(task, output string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		root := PipelineRoot(r.Workflow.Namespace) + "/"
		for _, l := range ls {
			for _, a := range l.Launch.Input.GetOutputs().GetArtifacts()[output].GetArtifacts() {
				if !strings.HasPrefix(a.GetUri(), root) {
					return fmt.Errorf("%s: output %s at %s, want it under %s", task, output, a.GetUri(), root)
				}
			}
		}
		return nil
	}
}

// custom wraps a one-off check.
func custom(f func(r *Result) error) check { return f }

// artifactPerRun: the runs of task (a loop over an artifact list) got, one
// each, exactly the artifacts producer's runs wrote as output.
func artifactPerRun(task, input, producer, output string) check {
	return func(r *Result) error {
		ls, err := launchesOf(r, task)
		if err != nil {
			return err
		}
		ps, err := launchesOf(r, producer)
		if err != nil {
			return err
		}
		var got, want []string
		for _, l := range ls {
			for _, a := range l.Launch.Input.GetInputs().GetArtifacts()[input].GetArtifacts() {
				got = append(got, a.GetUri())
			}
		}
		for _, p := range ps {
			for _, a := range p.Launch.Input.GetOutputs().GetArtifacts()[output].GetArtifacts() {
				want = append(want, a.GetUri())
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: input %s over %d runs = %v, want one each of %s.%s %v", task, input, len(ls), got, producer, output, want)
		}
		return nil
	}
}

// ranUserCode: each task's user command ran for real in its executor pod
// (not the Behaviour's stand-in outputs).
func ranUserCode(tasks ...string) check {
	return func(r *Result) error {
		for _, task := range tasks {
			if !slices.Contains(r.RanUserCode, task) {
				return fmt.Errorf("%s: user code did not run for real (ran: %v)", task, r.RanUserCode)
			}
		}
		return nil
	}
}

// serviceAccount: the workflow, so its agent and executor pods, ran as sa.
func serviceAccount(sa string) check {
	return func(r *Result) error {
		if got := r.Workflow.Spec.ServiceAccountName; got != sa {
			return fmt.Errorf("workflow ran as %q, want %q", got, sa)
		}
		for _, l := range r.Launches {
			if l.Pod != nil && l.Pod.Spec.ServiceAccountName != sa {
				return fmt.Errorf("pod %s ran as %q, want %q", l.Pod.Name, l.Pod.Spec.ServiceAccountName, sa)
			}
		}
		return nil
	}
}

// convertedByWebhook: the workflow was created unconverted (as KFP's API
// server creates it) and stored with plugin templates by the admission
// webhook, which recorded what it did.
func convertedByWebhook() check {
	return func(r *Result) error {
		if r.Workflow.Annotations[webhook.ConvertedAnnotation] == "" {
			return fmt.Errorf("no %s annotation: the webhook did not convert the workflow", webhook.ConvertedAnnotation)
		}
		for _, t := range r.Workflow.Spec.Templates {
			if t.Container != nil && len(t.Container.Command) > 0 && t.Container.Command[0] == "driver" {
				return fmt.Errorf("template %s still runs the driver as a container", t.Name)
			}
		}
		return nil
	}
}

// notConvertedByWebhook: the workflow was stored as submitted (converted
// beforehand), without the webhook's record.
func notConvertedByWebhook() check {
	return func(r *Result) error {
		if v := r.Workflow.Annotations[webhook.ConvertedAnnotation]; v != "" {
			return fmt.Errorf("the webhook converted a workflow in an opted-out namespace: %s", v)
		}
		return nil
	}
}

// driverPodsRanDrive: every driver step ran as a pod of our image, which
// succeeded and logged its decision, as `argo logs` shows it.
func driverPodsRanDrive() check {
	return func(r *Result) error {
		pods, err := podsByNode(context.Background(), r.Kube, r.Workflow)
		if err != nil {
			return err
		}
		steps := 0
		for _, n := range r.Workflow.Status.Nodes {
			if n.TemplateName != "system-dag-driver" && n.TemplateName != "system-container-driver" {
				continue
			}
			steps++
			if n.Type != wfv1.NodeTypePod || n.Phase != wfv1.NodeSucceeded {
				return fmt.Errorf("driver step %s: %s %s (%s), want a Succeeded pod", n.DisplayName, n.Type, n.Phase, n.Message)
			}
			pod := pods[n.ID]
			if pod == nil {
				return fmt.Errorf("driver step %s: no pod", n.DisplayName)
			}
			if img := mainContainer(pod).Image; img != SidecarImage {
				return fmt.Errorf("driver pod %s ran %s, want %s", pod.Name, img, SidecarImage)
			}
			logs, err := r.Kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: agentMain}).DoRaw(context.Background())
			if err != nil {
				return fmt.Errorf("driver pod %s logs: %w", pod.Name, err)
			}
			if !strings.Contains(string(logs), ": execution ") {
				return fmt.Errorf("driver pod %s logged no decision:\n%s", pod.Name, logs)
			}
		}
		if steps < 3 {
			return fmt.Errorf("%d driver steps, want the root and one per task", steps)
		}
		return nil
	}
}
