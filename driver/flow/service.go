// Package flow runs KFP's three driver steps (ROOT_DAG, DAG, CONTAINER) on
// ML Metadata: *Service implements driver.Driver. Each step is idempotent:
// executions get deterministic names (see package mlmd), so an Argo retry
// finds the execution the first call created and replies the same way.
package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlmd"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
)

// Deps are the service's connections. Kube may be nil (no kfp-launcher
// ConfigMap is read then); nil pools are created.
type Deps struct {
	Kube  kube.Interface
	MLMD  *mlmd.Pool
	Tasks *mlpipeline.Pool
	// Endpoints are the MLMD and ml-pipeline services, from the admin's
	// configuration; the zero value means KFP's in-cluster defaults. A
	// request's own endpoint options are never dialled.
	Endpoints driver.Endpoints
	// Cache overrides the ml-pipeline task cache (tests); nil uses Tasks.
	Cache func() (Cache, error)
	Now   func() time.Time
	// DriverLogs: each step's log is kept in the object store (by a
	// driverlog.Recorder around this driver), so executions record where
	// (driver_logs_uri) and results carry it.
	DriverLogs bool
}

// Cache is the task cache lookup (*cache.Cache).
type Cache interface {
	Lookup(ctx context.Context, namespace, pipelineName, fingerprint string) (string, bool, error)
}

// Service is the driver. Safe for concurrent use.
type Service struct{ deps Deps }

var _ driver.Driver = (*Service)(nil)

// New returns a driver over deps.
func New(deps Deps) *Service {
	if deps.MLMD == nil {
		deps.MLMD = mlmd.NewPool(mlmd.Config{})
	}
	if deps.Tasks == nil {
		deps.Tasks = &mlpipeline.Pool{}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Endpoints.MLMDHost == "" {
		deps.Endpoints = driver.DefaultEndpoints()
	}
	if deps.Cache == nil {
		tasks, ep := deps.Tasks, deps.Endpoints
		deps.Cache = func() (Cache, error) {
			c, err := tasks.Client(mlpipeline.Options{
				Address: mlpipeline.Address(ep.MLPipelineHost, ep.MLPipelinePort),
				TLS:     ep.MLPipelineTLS, CAPEM: ep.CAPEM,
			})
			if err != nil {
				return nil, err
			}
			return cache.New(c), nil
		}
	}
	return &Service{deps: deps}
}

// Run runs one driver step. Failures that may pass when the same call is
// made again (MLMD or the API server unreachable) are driver.Transient.
func (s *Service) Run(ctx context.Context, req *driver.Request) (res *driver.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%s driver for task %q: internal error: %v", req.Type, req.TaskName, r)
		}
	}()
	if err := validate(req); err != nil {
		return nil, err
	}
	client, err := s.MLMDClient()
	if err != nil {
		return nil, err
	}
	switch req.Type {
	case driver.RootDAG:
		res, err = s.rootDAG(ctx, client, req)
	case driver.DAG:
		res, err = s.dag(ctx, client, req)
	default:
		res, err = s.container(ctx, client, req)
	}
	return res, classify(err)
}

// MLMDClient is the pooled MLMD client of the configured endpoint (its
// Calls counts round trips).
func (s *Service) MLMDClient() (*mlmd.Client, error) {
	ep := s.deps.Endpoints
	return s.deps.MLMD.Get(mlmd.Endpoint{Host: ep.MLMDHost, Port: ep.MLMDPort, TLS: ep.MetadataTLS, CAPEM: ep.CAPEM})
}

// classify marks errors that a later retry may not see as transient.
func classify(err error) error {
	if err == nil || driver.IsTransient(err) {
		return err
	}
	if mlmd.IsUnreachable(err) || errors.Is(err, context.DeadlineExceeded) || kube.IsTransient(err) {
		return driver.Transient(err)
	}
	return err
}
