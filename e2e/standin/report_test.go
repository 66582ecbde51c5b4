package standin

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMountsReadsMountPointsAndTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mountinfo")
	info := "22 1 0:21 / / rw,relatime - overlay overlay rw\n" +
		"30 22 0:40 / /mnt/my\\040vol ro,relatime - tmpfs tmpfs rw,size=1024k\n" +
		"31 22 8:1 /pv /data rw shared:1 master:2 - ext4 /dev/sda1 rw\n" +
		"garbage line\n"
	if err := os.WriteFile(path, []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	got := mounts(path)
	want := map[string]string{"/": "overlay", "/mnt/my vol": "tmpfs", "/data": "ext4"}
	if len(got) != len(want) {
		t.Fatalf("mounts = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("mount %q = %q, want %q", k, got[k], v)
		}
	}
}

func TestCgroupLimits(t *testing.T) {
	for _, tc := range []struct {
		name       string
		files      map[string]string
		mem, milli int64
	}{
		{"v2 limited", map[string]string{"memory.max": "268435456\n", "cpu.max": "50000 100000\n"}, 268435456, 500},
		{"v2 unlimited", map[string]string{"memory.max": "max\n", "cpu.max": "max 100000\n"}, 0, 0},
		{"v1 limited", map[string]string{"memory/memory.limit_in_bytes": "268435456\n",
			"cpu,cpuacct/cpu.cfs_quota_us": "100000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 268435456, 1000},
		{"v1 unlimited", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n",
			"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := memoryLimit(dir); got != tc.mem {
				t.Errorf("memory limit = %d, want %d", got, tc.mem)
			}
			if got := cpuMillis(dir); got != tc.milli {
				t.Errorf("cpu = %dm, want %dm", got, tc.milli)
			}
		})
	}
}

func TestCollectFilesReadsThroughSecretVolumeLinks(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "..2026_11_30")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "username"), []byte("user"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2026_11_30", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/username", filepath.Join(dir, "username")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	collectFiles(dir, got)
	if len(got) != 1 || got[filepath.Join(dir, "username")] != "user" {
		t.Fatalf("files = %v, want only the key through its link", got)
	}
}
