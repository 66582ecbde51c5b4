package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one started binary, running in its own process group with
// stdout and stderr in LogPath.
type Process struct {
	Name    string
	LogPath string

	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{}
	waitErr error
	stop    sync.Once
}

// StartProcess runs bin with args and env in a new process group, logging to
// logPath; for binaries that are not in the tools directory (containerd).
func StartProcess(name, logPath, bin string, args, env []string) (*Process, error) {
	return startProcess(name, logPath, bin, args, env)
}

// startProcess runs bin with args and env (appended to ours) in a new process
// group, so that Stop can also kill anything the binary forks.
func startProcess(name, logPath, bin string, args, env []string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: log file: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: if the test binary dies without cleanup, the kernel kills
	// the child instead of leaving an apiserver running forever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

func (p *Process) wait() {
	p.waitErr = p.cmd.Wait()
	p.logFile.Close()
	close(p.done)
}

// Pid returns the process id, which is also its process group id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and with what error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process group, SIGKILL after grace, and waits. It
// then kills whatever is left in the group. Safe to call more than once.
func (p *Process) Stop(grace time.Duration) error {
	var err error
	p.stop.Do(func() { err = p.terminate(grace) })
	return err
}

func (p *Process) terminate(grace time.Duration) error {
	pgid := p.Pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("stop %s (pid %d): still running after SIGKILL", p.Name, pgid)
		}
	}
	// Children that ignored SIGTERM outlive the leader; ESRCH means none left.
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: kill group %d: %w", p.Name, pgid, err)
	}
	return nil
}

// Tail returns about the last n lines of the process log.
func (p *Process) Tail(n int) string {
	return tailFile(p.LogPath, n)
}

// LogContains reports whether the log file contains s.
func (p *Process) LogContains(s string) bool {
	b, err := os.ReadFile(p.LogPath)
	return err == nil && strings.Contains(string(b), s)
}

func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	// Lines can be long (klog, JSON); 64 KiB covers ~n lines in practice.
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		_, _ = f.Seek(-window, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// exitError describes an unexpectedly exited process, with its log tail.
func (p *Process) exitError() error {
	_, err := p.Exited()
	return fmt.Errorf("%s exited early (%v); log %s:\n%s", p.Name, err, p.LogPath, p.Tail(30))
}
