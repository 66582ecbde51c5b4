package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one process the harness started (a "container" of a played pod,
// or the pod sandbox), in its own process group, output in a timestamped
// log file.
type proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	log     *tsWriter
	done    chan struct{}
	waitErr error
	stop    sync.Once
	stopErr error
}

// startProc runs argv in a new process group with exactly env, or with the
// harness's environment when env is nil. Pdeathsig makes the kernel kill
// it if the harness dies without cleanup.
func startProc(name, logPath string, argv, env []string) (*proc, error) {
	w, err := newTSWriter(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	if env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, log: w, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		w.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended, and how.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// wait blocks until the process exits or timeout passes.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(timeout):
		return fmt.Errorf("%s still running after %s", p.name, timeout)
	}
}

// Stop sends SIGTERM to the group, SIGKILL after grace, and then kills
// whatever is left of the group. Safe to call more than once.
func (p *proc) Stop(grace time.Duration) error {
	p.stop.Do(func() { p.stopErr = p.terminate(grace) })
	return p.stopErr
}

func (p *proc) terminate(grace time.Duration) error {
	pgid := p.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if err := p.wait(10 * time.Second); err != nil && !isExitErr(err) {
			return fmt.Errorf("stop %s (pid %d): %w", p.name, pgid, err)
		}
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: kill group %d: %w", p.name, pgid, err)
	}
	return nil
}

func isExitErr(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// groupGone reports whether no process of group pgid is left.
func groupGone(pgid int) bool {
	return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}

// tail returns about the last n lines of the log.
func (p *proc) tail(n int) string { return tailLines(p.logPath, n) }
