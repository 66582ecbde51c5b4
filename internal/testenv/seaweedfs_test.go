package testenv

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestSeaweedFSStopLeavesNothing(t *testing.T) {
	tools := RequireTools(t, Weed)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "weed")
	s, err := StartSeaweedFS(ctx, SeaweedFSOptions{ToolsDir: tools, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	present := 0
	for _, sock := range s.sockets {
		if _, err := os.Stat(sock); err == nil {
			present++
		}
	}
	if present == 0 {
		t.Fatalf("none of %v exists while weed runs: the socket names changed, Stop would leave the new ones", s.sockets)
	}
	pid := s.Process.Pid()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]string{dir}, s.sockets...) {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after Stop (%v)", p, err)
		}
	}
	if err := syscall.Kill(-pid, 0); err == nil {
		t.Errorf("process group %d still alive after Stop", pid)
	}
}
