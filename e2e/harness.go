package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/standin"
)

// Bounds of the harness's artifact store (test artifacts are tiny).
const (
	maxArtifact      = 8 << 20
	maxArtifactTotal = 256 << 20
)

// harness serves the launcher stand-in in executor pods (package standin):
// what each task's user code returns when it cannot run here (the case's
// Behaviour), and a small artifact store keyed by artifact URI.
type harness struct {
	s   *Stack
	srv *http.Server

	store blobs // artifacts by URI

	mu         sync.Mutex
	ran        map[string][]string                 // namespace -> tasks whose user code ran for real
	known      map[string][]string                 // namespace -> tasks that failed as on KFP, with why
	containers map[string]*standin.ContainerReport // launchKey -> its main container from inside
}

func startHarness(s *Stack) (*harness, error) {
	port, _ := strconv.Atoi(standin.HarnessPort)
	lis, err := net.Listen("tcp", hostAddr(port))
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	h := &harness{s: s, ran: map[string][]string{}, known: map[string][]string{}, containers: map[string]*standin.ContainerReport{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+standin.PathBehaviour, h.behaviour)
	mux.HandleFunc("GET "+standin.PathArtifacts, h.getArtifact)
	mux.HandleFunc("PUT "+standin.PathArtifacts, h.putArtifact)
	h.srv = &http.Server{Handler: mux}
	go func() { _ = h.srv.Serve(lis) }()
	return h, nil
}

func (h *harness) stop() { _ = h.srv.Close() }

func (h *harness) behaviour(w http.ResponseWriter, r *http.Request) {
	var q standin.Query
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&q); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ans, err := h.answer(r.Context(), q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(ans)
}

// answer applies the namespace's Behaviour to one task: user code that ran
// keeps what it produced (and fails when it exited non-zero) unless the
// case fixes an output; otherwise the case's Produce rules give the
// outputs.
func (h *harness) answer(ctx context.Context, q standin.Query) (*standin.Answer, error) {
	task := q.Task
	if q.TaskID == "" {
		exec, err := h.s.mlmd.ExecutionByID(ctx, q.ExecutionID)
		if err != nil {
			return nil, fmt.Errorf("execution %d: %w", q.ExecutionID, err)
		}
		task = exec.TaskName()
	}
	h.recordContainer(launchKey(q.ExecutionID, q.TaskID), q.Container)
	b := h.s.behaviourOf(q.Namespace)
	if b.Hold != nil {
		select {
		case <-b.Hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ans := &standin.Answer{Cache: b.Cache, Failed: b.Fail[task], Parameters: map[string]any{}}
	inputs := map[string]*structpb.Value{}
	var err error
	for k, v := range q.Inputs {
		if inputs[k], err = structpb.NewValue(v); err != nil {
			return nil, err
		}
	}
	f := b.Produce
	if f == nil {
		f = DefaultOutput
	}
	ran := q.RanUserCode
	if reason := b.FailsAsOnKFP[task]; ran && q.ExitCode != 0 && reason != "" {
		h.recordKnownFailure(q.Namespace, task+": "+reason)
		ran = false // as if it could not run: the scripted outputs stand in
	}
	if ran {
		ans.Failed = ans.Failed || q.ExitCode != 0
		maps.Copy(ans.Parameters, q.Produced)
	}
	fixed := false
	for name, typ := range q.Outputs {
		def := &pipelinespec.ComponentOutputsSpec_ParameterSpec{
			ParameterType: pipelinespec.ParameterType_ParameterTypeEnum(pipelinespec.ParameterType_ParameterTypeEnum_value[typ])}
		if v := f(Call{Task: task, Output: name, Def: def, Inputs: inputs, Ran: ran}); v != nil {
			ans.Parameters[name] = v.AsInterface()
			fixed = true
		}
	}
	// A task whose outputs the case fixed did run, but what it produced
	// went nowhere: it does not count as user code feeding the run.
	if ran && !fixed {
		h.recordRan(q.Namespace, task)
	}
	return ans, nil
}

func (h *harness) recordRan(ns, task string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.ran[ns], task) {
		h.ran[ns] = append(h.ran[ns], task)
	}
}

func (h *harness) recordKnownFailure(ns, what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.known[ns], what) {
		h.known[ns] = append(h.known[ns], what)
	}
}

// KnownFailures lists the tasks of namespace ns whose real code failed as
// it would on KFP (Behaviour.FailsAsOnKFP), with the reason.
func (s *Stack) KnownFailures(ns string) []string {
	s.harness.mu.Lock()
	defer s.harness.mu.Unlock()
	return slices.Clone(s.harness.known[ns])
}

func (h *harness) recordContainer(key string, r *standin.ContainerReport) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.containers[key] = r
}

// launchKey names one launch: its API server task on the native line,
// else its MLMD execution.
func launchKey(execution int64, taskID string) string {
	if taskID != "" {
		return "task/" + taskID
	}
	return "execution/" + strconv.FormatInt(execution, 10)
}

// Container is how a launch's main container looked from inside (nil: no
// report); key is launchKey's.
func (s *Stack) Container(key string) *standin.ContainerReport {
	s.harness.mu.Lock()
	defer s.harness.mu.Unlock()
	return s.harness.containers[key]
}

// RanUserCode lists the tasks of namespace ns whose user command ran for
// real in its executor pod.
func (s *Stack) RanUserCode(ns string) []string {
	s.harness.mu.Lock()
	defer s.harness.mu.Unlock()
	return slices.Clone(s.harness.ran[ns])
}

func (h *harness) getArtifact(w http.ResponseWriter, r *http.Request) {
	b, ok := h.store.get(r.URL.Query().Get("uri"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(b)
}

func (h *harness) putArtifact(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Query().Get("uri")
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxArtifact))
	if err != nil || uri == "" {
		http.Error(w, fmt.Sprintf("artifact %q: %v", uri, err), http.StatusBadRequest)
		return
	}
	if err := h.store.put(uri, b); err != nil {
		http.Error(w, "artifact "+uri+": "+err.Error(), http.StatusInsufficientStorage)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// Artifact returns what an executor pod uploaded for uri.
func (s *Stack) Artifact(uri string) ([]byte, error) {
	b, ok := s.harness.store.get(uri)
	if !ok {
		return nil, errors.New("no artifact uploaded at " + uri)
	}
	return b, nil
}
