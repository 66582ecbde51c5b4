package standin

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ContainerReport is what the main container of an executor pod looks like
// from inside, taken by the stand-in just before the user command: what
// kfp-kubernetes settings must have reached (environment, volumes, limits)
// as the container itself sees them, not as the pod spec claims.
type ContainerReport struct {
	Env map[string]string `json:"env"`
	// Mounts are the container's mount points and their filesystem types.
	Mounts map[string]string `json:"mounts"`
	// Files are small files under the volume mounts the pod spec added
	// (path -> content), at most reportFiles of at most reportFileBytes.
	Files map[string]string `json:"files"`
	// MemoryLimit is the cgroup's memory limit in bytes (0: none).
	MemoryLimit int64 `json:"memoryLimit"`
	// CPUMillis is the cgroup's CPU quota in millicores (0: none).
	CPUMillis int64 `json:"cpuMillis"`
	// ShmBytes is the size of /dev/shm.
	ShmBytes int64 `json:"shmBytes"`
}

const (
	reportFiles     = 64
	reportFileBytes = 4096
)

// systemMounts are the runtime's own mounts: not volumes a task asked for.
var systemMounts = []string{"/", "/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
	"/var/run/secrets/kubernetes.io", "/var/run/argo", "/kfp-launcher", "/tmp", "/gcs", "/s3", "/minio"}

func isSystemMount(p string) bool {
	for _, s := range systemMounts {
		if p == s || (s != "/" && strings.HasPrefix(p, s+"/")) {
			return true
		}
	}
	return false
}

// reportContainer looks at the container from inside. Nothing in it is
// required: what cannot be read stays empty.
func reportContainer() *ContainerReport {
	r := &ContainerReport{Env: map[string]string{}, Mounts: map[string]string{}, Files: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			r.Env[k] = v
		}
	}
	r.Mounts = mounts("/proc/self/mountinfo")
	for p := range r.Mounts {
		if !isSystemMount(p) {
			collectFiles(p, r.Files)
		}
	}
	r.MemoryLimit = memoryLimit("/sys/fs/cgroup")
	r.CPUMillis = cpuMillis("/sys/fs/cgroup")
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil {
		r.ShmBytes = int64(st.Blocks) * st.Bsize
	}
	return r
}

// mounts reads mount points and filesystem types from a mountinfo file.
func mounts(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		out[unescapeMount(fields[4])] = fields[sep+1]
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func collectFiles(root string, into map[string]string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(into) >= reportFiles {
			return fs.SkipDir
		}
		// Secret and ConfigMap volumes hold their keys as symlinks into a
		// ..data directory: read through them, skip the dot entries.
		if strings.HasPrefix(d.Name(), "..") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() || st.Size() > reportFileBytes {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil {
			into[p] = string(b)
		}
		return nil
	})
}

// memoryLimit reads the cgroup memory limit (v2, else v1); 0 when
// unlimited.
func memoryLimit(cg string) int64 {
	if s, err := readTrim(filepath.Join(cg, "memory.max")); err == nil {
		n, _ := strconv.ParseInt(s, 10, 64) // "max": unlimited, 0
		return n
	}
	s, err := readTrim(filepath.Join(cg, "memory", "memory.limit_in_bytes"))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	if n >= 1<<62 { // v1's "unlimited" is a huge page-rounded number
		return 0
	}
	return n
}

// cpuMillis reads the cgroup CPU quota (v2 cpu.max, else v1 CFS) in
// millicores; 0 when unlimited.
func cpuMillis(cg string) int64 {
	var quota, period int64
	if s, err := readTrim(filepath.Join(cg, "cpu.max")); err == nil {
		q, p, _ := strings.Cut(s, " ")
		quota, _ = strconv.ParseInt(q, 10, 64)
		period, _ = strconv.ParseInt(p, 10, 64)
	} else {
		for _, dir := range []string{"cpu", "cpu,cpuacct"} {
			q, err1 := readTrim(filepath.Join(cg, dir, "cpu.cfs_quota_us"))
			p, err2 := readTrim(filepath.Join(cg, dir, "cpu.cfs_period_us"))
			if err1 == nil && err2 == nil {
				quota, _ = strconv.ParseInt(q, 10, 64)
				period, _ = strconv.ParseInt(p, 10, 64)
				break
			}
		}
	}
	if quota <= 0 || period <= 0 {
		return 0
	}
	return quota * 1000 / period
}

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}
