// Package flow runs KFP's three driver steps (ROOT_DAG, DAG, CONTAINER):
// *Service implements driver.Driver. The decisions (inputs, conditions,
// loops, cache, pod spec) are made here once; what is recorded and where
// goes through a record.Backend picked by the call's KFP line (ML Metadata
// for KFP 2.x). Each step is idempotent: an Argo retry finds the record the
// first call wrote and replies the same way.
package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/apirecords"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/cache"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/mlmdrecords"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/record"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
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
	// APIToken authenticates the native line's calls to the KFP API
	// server; nil sends no token (single-user installs).
	APIToken kfpapi.TokenSource
	// Cache overrides the ml-pipeline task cache (tests); nil uses Tasks.
	Cache func() (Cache, error)
	Now   func() time.Time
	// DriverLogs: each step's log is kept in the object store (by a
	// driverlog.Recorder around this driver), so executions record where
	// (driver_logs_uri) and results carry it.
	DriverLogs bool
}

// Cache is the MLMD line's task cache lookup (*cache.Cache).
type Cache = mlmdrecords.Cache

// Service is the driver. Safe for concurrent use.
type Service struct {
	deps   Deps
	mlmd   *mlmdrecords.Backend
	native *apirecords.Backend
}

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
	ep := deps.Endpoints
	return &Service{deps: deps, mlmd: &mlmdrecords.Backend{
		MLMD:     deps.MLMD,
		Endpoint: mlmd.Endpoint{Host: ep.MLMDHost, Port: ep.MLMDPort, TLS: ep.MetadataTLS, CAPEM: ep.CAPEM},
		Cache:    deps.Cache, DriverLogs: deps.DriverLogs, Now: deps.Now,
	}, native: &apirecords.Backend{
		Tasks:    deps.Tasks,
		Endpoint: mlpipeline.Options{Address: mlpipeline.Address(ep.MLPipelineHost, ep.MLPipelinePort), TLS: ep.MLPipelineTLS, CAPEM: ep.CAPEM},
		Token:    deps.APIToken, Kube: deps.Kube, DriverLogs: deps.DriverLogs, Now: deps.Now,
	}}
}

// backend is the record keeper of the call's KFP line.
func (s *Service) backend(req *driver.Request) record.Backend {
	if req.Line == driver.LineNative {
		return s.native
	}
	return s.mlmd
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
	b := s.backend(req)
	switch req.Type {
	case driver.RootDAG:
		res, err = s.rootDAG(ctx, b, req)
	case driver.DAG:
		res, err = s.dag(ctx, b, req)
	default:
		res, err = s.container(ctx, b, req)
	}
	return res, classify(err)
}

// MLMDClient is the pooled MLMD client of the configured endpoint (its
// Calls counts round trips).
func (s *Service) MLMDClient() (*mlmd.Client, error) { return s.mlmd.Client() }

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
