package plugin

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// FuzzDecodeArgs feeds arbitrary argument objects to the decoder: it must
// never panic, and every rejection must name an argument.
func FuzzDecodeArgs(f *testing.F) {
	seed, _ := json.Marshal(validArgs())
	f.Add(seed)
	root := with(with(with(with(validArgs(), "type", "ROOT_DAG"), "task", ""), "dag_execution_id", "0"), "runtime_config", `{"parameterValues":{"a":1}}`)
	rootJSON, _ := json.Marshal(with(with(root, "container", nil), "iteration_index", -1))
	f.Add(rootJSON)
	f.Add([]byte(`{"type":"DAG","component":{"dag":{}},"task":"{\"taskInfo\":{\"name\":\"x\"}}","kubernetes_config":"{\"pvcMount\":[{}]}"}`))
	native, _ := json.Marshal(nativeArgs())
	f.Add(native)
	f.Add([]byte(`{"type":7,"iteration_index":1e400,"dag_execution_id":"-0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		req, _, err := DecodeArgs(raw)
		if err != nil {
			var argErr *ArgError
			if !errors.As(err, &argErr) || argErr.Arg == "" {
				t.Fatalf("rejection without an argument name: %v", err)
			}
			return
		}
		if !req.Type.Valid() || (req.Line == driver.LineMLMD && req.Component == nil) {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
	})
}
