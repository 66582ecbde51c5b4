package plugin

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func containerArgs(t *testing.T, image string) map[string]json.RawMessage {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range map[string]string{
		"type": "CONTAINER", "pipeline_name": "p", "run_id": "r", "task_name": "t", "dag_execution_id": "5",
		"component": `{"executorLabel":"exec-t","inputDefinitions":{"parameters":{"x":{"parameterType":"STRING"}}}}`,
		"task":      `{"taskInfo":{"name":"t"},"componentRef":{"name":"comp-t"}}`,
		"container": `{"image":"` + image + `","command":["echo"]}`,
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		raw[k] = b
	}
	return raw
}

func TestRepeatedSpecsAreDecodedOnce(t *testing.T) {
	a, _, err := DecodeArgs(containerArgs(t, "busybox:1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := DecodeArgs(containerArgs(t, "busybox:1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Component != b.Component || a.Task != b.Task || a.Container != b.Container {
		t.Error("the same spec text was decoded twice")
	}
	want := &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{}
	if err := protojson.Unmarshal([]byte(`{"image":"busybox:1","command":["echo"]}`), want); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(b.Container, want) {
		t.Errorf("kept container spec %v, want %v", b.Container, want)
	}
	c, _, err := DecodeArgs(containerArgs(t, "busybox:2"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Container == a.Container || c.Container.GetImage() != "busybox:2" {
		t.Errorf("another container spec got %v", c.Container)
	}
	if c.Component != a.Component {
		t.Error("an unchanged component beside a changed container was decoded again")
	}
}

// Calls in flight share decoded specs; -race checks that nothing writes them.
func TestConcurrentCallsShareSpecs(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				req, _, err := DecodeArgs(containerArgs(t, "busybox:shared"))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := protojson.Marshal(req.Component); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestCallKey(t *testing.T) {
	args := func(pairs ...string) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		for i := 0; i < len(pairs); i += 2 {
			m[pairs[i]] = json.RawMessage(pairs[i+1])
		}
		return m
	}
	base := callKey("uid", args("a", `"1"`, "b", `"2"`))
	if callKey("uid", args("b", `"2"`, "a", `"1"`)) != base {
		t.Error("the key depends on the order of the arguments")
	}
	for name, other := range map[string]string{
		"another workflow":              callKey("uid2", args("a", `"1"`, "b", `"2"`)),
		"another value":                 callKey("uid", args("a", `"1"`, "b", `"3"`)),
		"a name and value run together": callKey("uid", args("a", `"1"`, "b\"2", ``)),
		"one argument fewer":            callKey("uid", args("a", `"1"`)),
	} {
		if other == base {
			t.Errorf("%s has the same key", name)
		}
	}
}
