package realnode

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// staleNodeDir matches the state directories of nodes this package started
// (under a testenv cluster directory in the temp dir).
var staleNodeDir = regexp.MustCompile(`^` + regexp.QuoteMeta(os.TempDir()) + `/kfp-[a-z0-9-]+/(cluster/)?node/`)

// cleanStale removes what a node whose test process was killed left behind
// (Pdeathsig stops containerd and the kubelet, but not the runc shims, the
// containers, their mounts or cgroups). It runs under the machine lock, so
// every node of ours found now is dead.
func cleanStale() error {
	shims := processesMatching(func(_ int, cmdline string) bool {
		return strings.Contains(cmdline, "containerd-shim") && staleNodeDir.MatchString(addressArg(cmdline))
	})
	pods := processesMatching(func(pid int, _ string) bool { return inPodCgroup(pid) })
	for _, pid := range append(shims, pods...) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	waitFor(10*time.Second, func() bool { return len(alive(append(shims, pods...))) == 0 })
	for _, dir := range staleDirs() {
		_ = unmountUnder(dir)
		_ = os.RemoveAll(filepath.Dir(dir)) // the dead cluster's directory
	}
	return removeCgroups()
}

// addressArg is the value of a shim's -address flag.
func addressArg(cmdline string) string {
	f := strings.Fields(cmdline)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-address" {
			return f[i+1]
		}
	}
	return ""
}

// staleDirs lists node state directories that still have mounts.
func staleDirs() []string {
	seen := map[string]bool{}
	var dirs []string
	for _, m := range mountsUnder(os.TempDir()) {
		loc := staleNodeDir.FindStringIndex(m + "/")
		if loc == nil {
			continue
		}
		d := strings.TrimSuffix(m[:loc[1]], "/")
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}
