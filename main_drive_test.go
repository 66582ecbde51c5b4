package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runMainEnv makes the test binary run main instead of the tests.
const runMainEnv = "KFP_DRIVER_PLUGIN_TEST_RUN_MAIN"

// TestMain lets the test binary stand in for the built one: run under the
// name "driver" (as the image links it) or with runMainEnv set, it is the
// program itself.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == driverCommand || os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// TestRunAsDriver: invoked as `driver`, as KFP's compiled workflows run it,
// the binary reads KFP's driver flags (here an invalid one, so that nothing
// is dialled) and fails naming the flag; `drive` is the same mode.
func TestRunAsDriver(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), driverCommand)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{{link}, {self, "drive"}} {
		cmd := exec.Command(argv[0], append(argv[1:], "--type", "POD", "--pipeline_name", "p")...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 {
			t.Errorf("%v: exit %d (%v), want 1\n%s", argv, code, err, out)
		}
		if want := `error: flag "--type": unknown driver type "POD"`; !strings.Contains(string(out), want) {
			t.Errorf("%v: output lacks %q:\n%s", argv, want, out)
		}
	}
}
