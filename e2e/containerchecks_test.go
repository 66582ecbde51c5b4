package e2e

import (
	"fmt"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/standin"
)

// Checks on what the main container of an executor pod saw from inside
// (the launcher stand-in's ContainerReport), not on the pod spec: the
// kubelet, the runtime and the kernel had to make it so.

// inContainer: every run of task reported its container, and each report
// passes f.
func inContainer(task string, f func(*standin.ContainerReport) error) check {
	return eachLaunch(task, func(l *Launched) error {
		if l.Container == nil {
			return fmt.Errorf("%s: no report from inside its container", task)
		}
		if err := f(l.Container); err != nil {
			return fmt.Errorf("%s (inside its container): %w", task, err)
		}
		return nil
	})
}

// envSeen: the container's environment has name = value.
func envSeen(task, name, value string) check {
	return entrySeen(task, "env", name, value, func(c *standin.ContainerReport) map[string]string { return c.Env })
}

// fileSeen: the container reads content at path (a volume's file).
func fileSeen(task, path, content string) check {
	return entrySeen(task, "file", path, content, func(c *standin.ContainerReport) map[string]string { return c.Files })
}

// entrySeen: the report's map (environment, files) has key = want.
func entrySeen(task, kind, key, want string, of func(*standin.ContainerReport) map[string]string) check {
	return inContainer(task, func(c *standin.ContainerReport) error {
		got, ok := of(c)[key]
		if !ok {
			return fmt.Errorf("no %s %s (mounts %v)", kind, key, c.Mounts)
		}
		if got != want {
			return fmt.Errorf("%s %s = %q, want %q", kind, key, got, want)
		}
		return nil
	})
}

// mountSeen: something is mounted at dir, of filesystem type fstype ("":
// any).
func mountSeen(task, dir, fstype string) check {
	return inContainer(task, func(c *standin.ContainerReport) error {
		got, ok := c.Mounts[dir]
		if !ok {
			return fmt.Errorf("nothing mounted at %s (mounts %v)", dir, c.Mounts)
		}
		if fstype != "" && got != fstype {
			return fmt.Errorf("%s is %s, want %s", dir, got, fstype)
		}
		return nil
	})
}

// limitsSeen: the container's cgroup enforces these limits.
func limitsSeen(task string, cpuMillis, memoryBytes int64) check {
	return inContainer(task, func(c *standin.ContainerReport) error {
		if c.CPUMillis != cpuMillis || c.MemoryLimit != memoryBytes {
			return fmt.Errorf("cgroup cpu %dm memory %d, want %dm %d", c.CPUMillis, c.MemoryLimit, cpuMillis, memoryBytes)
		}
		return nil
	})
}

// shmSeen: /dev/shm is at least bytes big.
func shmSeen(task string, bytes int64) check {
	return inContainer(task, func(c *standin.ContainerReport) error {
		if c.ShmBytes < bytes {
			return fmt.Errorf("/dev/shm is %d bytes, want at least %d", c.ShmBytes, bytes)
		}
		return nil
	})
}
