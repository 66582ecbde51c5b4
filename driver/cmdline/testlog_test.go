package cmdline_test

// glog to stderr: no log files left in the temporary directory.
import _ "github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testlog"
