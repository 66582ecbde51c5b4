package plugin

import (
	"encoding/json"
	"time"
)

// PluginName is the key of the plugin object in a template
// (`plugin: {driver-plugin: {args: {...}}}`), as KFP's compiler emits it.
const PluginName = "driver-plugin"

// ExecuteRequest is the body Argo's agent posts to /api/v1/template.execute.
// Only the fields the plugin reads are declared: decoding stays cheap and a
// newer Argo adding fields cannot break us.
type ExecuteRequest struct {
	Workflow struct {
		Metadata WorkflowMeta `json:"metadata"`
	} `json:"workflow"`
	Template *Template `json:"template"`
}

// WorkflowMeta identifies the workflow a call belongs to.
type WorkflowMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid"`
}

// Template is the subset of Argo's wfv1.Template the plugin needs.
type Template struct {
	Name    string                     `json:"name"`
	Plugin  map[string]json.RawMessage `json:"plugin"`
	Outputs struct {
		Parameters []DeclaredParameter `json:"parameters"`
	} `json:"outputs"`
}

// DeclaredParameter is an output parameter as the template declares it. The
// reply may only carry declared names; defaults fill what the driver left unset.
type DeclaredParameter struct {
	Name      string  `json:"name"`
	Default   *string `json:"default,omitempty"`
	ValueFrom *struct {
		Default *string `json:"default,omitempty"`
	} `json:"valueFrom,omitempty"`
}

// declaredDefault is the value Argo would use if the driver produced none.
func (p DeclaredParameter) declaredDefault() (string, bool) {
	if p.ValueFrom != nil && p.ValueFrom.Default != nil {
		return *p.ValueFrom.Default, true
	}
	if p.Default != nil {
		return *p.Default, true
	}
	return "", false
}

// pluginArgs is the body of template.plugin["driver-plugin"].
type pluginArgs struct {
	Args map[string]json.RawMessage `json:"args"`
}

// ExecuteReply is the answer Argo's agent expects. An empty reply ({}) means
// "not my template".
type ExecuteReply struct {
	Node    *NodeResult `json:"node,omitempty"`
	Requeue *Duration   `json:"requeue,omitempty"`
}

// Node phases the plugin reports.
const (
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
	PhaseRunning   = "Running"
)

// NodeResult is what Argo copies into the workflow node.
type NodeResult struct {
	Phase   string   `json:"phase"`
	Message string   `json:"message,omitempty"`
	Outputs *Outputs `json:"outputs,omitempty"`
}

// Outputs carries the node's output parameters.
type Outputs struct {
	Parameters []Parameter `json:"parameters,omitempty"`
}

// Parameter is one output parameter value.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Duration marshals as a Go duration string ("1s"), the form Argo's
// metav1.Duration expects for `requeue`.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
