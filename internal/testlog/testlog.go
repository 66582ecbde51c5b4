// Package testlog, imported for its side effect by a package's tests, sends
// glog's output to stderr (shown by `go test` on failure or with -v): by
// default glog writes files into the system's temporary directory, which
// tests must not leave behind. The binaries set the same flag themselves.
package testlog

import (
	"flag"

	// Imported so that glog registers its flags before init below runs.
	_ "github.com/golang/glog"
)

func init() {
	if err := flag.Set("logtostderr", "true"); err != nil {
		panic("testlog: glog's logtostderr flag: " + err.Error())
	}
}
