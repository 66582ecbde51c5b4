// Command kfp-launcher-standin is the end-to-end suite's KFP launcher,
// installed as `launcher-v2` in the suite's launcher image; see package
// e2e/standin.
package main

import (
	"os"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/standin"
)

func main() { os.Exit(standin.Main(os.Args[1:], os.Stdout, os.Stderr)) }
