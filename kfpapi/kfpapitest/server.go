package kfpapitest

import (
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// Method names for Calls: the gRPC method names, e.g. "CreateTask".
const (
	MethodGetRun                  = "GetRun"
	MethodCreateTask              = "CreateTask"
	MethodUpdateTask              = "UpdateTask"
	MethodUpdateTasksBulk         = "UpdateTasksBulk"
	MethodGetTask                 = "GetTask"
	MethodListTasks               = "ListTasks"
	MethodFindCachedTask          = "FindCachedTask"
	MethodCreateArtifact          = "CreateArtifact"
	MethodCreateArtifactsBulk     = "CreateArtifactsBulk"
	MethodGetArtifact             = "GetArtifact"
	MethodListArtifacts           = "ListArtifacts"
	MethodListArtifactTasks       = "ListArtifactTasks"
	MethodCreateArtifactTask      = "CreateArtifactTask"
	MethodCreateArtifactTasksBulk = "CreateArtifactTasksBulk"
	MethodGetPipelineVersion      = "GetPipelineVersion"
)

// Options configures a Server. The zero value serves without authentication
// in KFP's multi-user mode.
type Options struct {
	// Authenticate, when set, is called with the bearer token of every call;
	// calls without one answer Unauthenticated (see Authenticator).
	Authenticate Authenticator
	// SingleUser makes the server behave like KFP without profiles:
	// namespaces of artifacts and cache lookups are ignored (stored empty),
	// and FindCachedTask needs no namespace.
	SingleUser bool
	// Now is the clock for create times and state history; nil means
	// time.Now. KFP keeps whole seconds, and so does the server.
	Now func() time.Time
}

// Server is the in-memory RunService, ArtifactService and PipelineService.
// It is safe for concurrent use; every call holds one lock, so each call is
// atomic as KFP's transactions make it.
type Server struct {
	pb.UnimplementedRunServiceServer
	pb.UnimplementedArtifactServiceServer
	pb.UnimplementedPipelineServiceServer

	opts Options

	mu       sync.Mutex
	seq      int
	runs     map[string]*runRecord
	versions map[versionKey]*pb.PipelineVersion
	tasks    map[string]*taskRecord
	taskList []*taskRecord // insertion order
	// Indexes, so that runs of thousands of tasks stay cheap to serve:
	// tasks by logical key (as stored at create) and by parent, links by
	// task.
	byKey     map[string]*taskRecord
	byParent  map[string][]*taskRecord
	taskLinks map[string][]*linkRecord
	artifacts map[string]*artifactRecord
	artList   []*artifactRecord
	links     []*linkRecord
	calls     map[string]int
	fault     error
	addr      string
}

type versionKey struct{ pipeline, version string }

// New returns an empty server. Serve it with Start, Serve or GRPCServer: the
// interceptor they install counts calls and applies authentication.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{
		opts:      opts,
		runs:      map[string]*runRecord{},
		versions:  map[versionKey]*pb.PipelineVersion{},
		tasks:     map[string]*taskRecord{},
		byKey:     map[string]*taskRecord{},
		byParent:  map[string][]*taskRecord{},
		taskLinks: map[string][]*linkRecord{},
		artifacts: map[string]*artifactRecord{},
		calls:     map[string]int{},
	}
}

// Addr is the listening address set by Start, "" otherwise.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Calls counts calls of a method (the Method constants), failed and refused
// ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// TotalCalls counts every call, to bound a client's round trips.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// ResetCalls zeroes the counters, e.g. after seeding through the API.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
}

// FailWith makes every call return err (use a status error for a specific
// code) until FailWith(nil).
func (s *Server) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = err
}

// nextSeq numbers stored objects; it breaks ties where KFP compares UUIDs,
// which are random, so any order would be faithful and this one is stable.
func (s *Server) nextSeq() int {
	s.seq++
	return s.seq
}

func (s *Server) nowSeconds() int64 { return s.opts.Now().Unix() }

// namespace is what KFP keeps of a namespace: nothing in single-user mode.
func (s *Server) namespace(ns string) string {
	if s.opts.SingleUser {
		return ""
	}
	return ns
}

func newID() string { return uuid.NewString() }

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func notFound(what, id string) error {
	return status.Errorf(codes.NotFound, "%s %q not found", what, id)
}
