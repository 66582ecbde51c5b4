//go:build pprof

package main

// Built only with -tags pprof (cmd/bench -profile builds it so): serves
// net/http/pprof on $KFP_DRIVER_PLUGIN_PPROF_ADDR, so a load run can
// profile the real serve process. The shipped binary has none of this.

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"

	"github.com/golang/glog"
)

func init() {
	addr := os.Getenv("KFP_DRIVER_PLUGIN_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		glog.Infof("pprof on %s (a -tags pprof build)", addr)
		glog.Warningf("pprof server stopped: %v", http.ListenAndServe(addr, nil))
	}()
}
