package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver/drivertest"
)

func TestPrepareRegistersTypesBeforeTheFirstCall(t *testing.T) {
	env := drivertest.NewEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.Service.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if n := env.MLMDServer.Server.Calls()["PutTypes"]; n != 1 {
		t.Fatalf("Prepare made %d PutTypes calls, want 1", n)
	}
	env.MLMDServer.Server.ResetCalls()
	p, err := drivertest.Load("../testdata/pipelines/add_numbers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Walker(p, "prepared").Run(ctx, p); err != nil {
		t.Fatal(err)
	}
	if n := env.MLMDServer.Server.Calls()["PutTypes"]; n != 0 {
		t.Errorf("the prepared driver's run still registered types (%d PutTypes)", n)
	}
}

func TestPrepareReportsAnUnreachableStore(t *testing.T) {
	env := drivertest.NewEnv(t)
	env.MLMDServer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := env.Service.Prepare(ctx); err == nil {
		t.Error("Prepare against a stopped MLMD reported success")
	}
}
