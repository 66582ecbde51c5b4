package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// tsWriter writes a process's output to a file one line at a time, each
// line prefixed with its RFC 3339 arrival time, as a kubelet stores
// container logs: the stand-in kubelet serves them with or without the
// timestamps (`kubectl logs --timestamps`, which `argo logs` always asks for).
type tsWriter struct {
	mu      sync.Mutex
	f       *os.File
	partial []byte
}

func newTSWriter(path string) (*tsWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return &tsWriter{f: f}, nil
}

func (w *tsWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := append(w.partial, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := w.line(data[:i]); err != nil {
			return 0, err
		}
		data = data[i+1:]
	}
	w.partial = append([]byte(nil), data...)
	return len(b), nil
}

func (w *tsWriter) line(b []byte) error {
	_, err := fmt.Fprintf(w.f, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), b)
	return err
}

// Close flushes a last unterminated line.
func (w *tsWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		_ = w.line(w.partial)
		w.partial = nil
	}
	return w.f.Close()
}

// copyLog writes a timestamped log to out, without the timestamps unless
// keep is set.
func copyLog(out io.Writer, path string, keep bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if !keep {
			_, line, _ = strings.Cut(line, " ")
		}
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// tailLines returns about the last n lines of a file.
func tailLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
