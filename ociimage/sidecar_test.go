package ociimage

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dockerfileStage is what the Dockerfile's final stage sets.
type dockerfileStage struct {
	user, expose    string
	copies          map[string]string // source -> destination
	entrypoint, cmd []string
	links           map[string]string // path -> target, from `ln -s` in any stage
}

// parseFinalStage reads the instructions after the last FROM. Only the
// single-line forms the Dockerfile uses are understood; anything else fails
// the test rather than being skipped silently.
func parseFinalStage(t *testing.T, path string) dockerfileStage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st dockerfileStage
	links := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		instr, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			st = dockerfileStage{copies: map[string]string{}}
		case "RUN":
			for _, cmd := range strings.Split(arg, "&&") {
				if f := strings.Fields(cmd); len(f) == 4 && f[0] == "ln" && f[1] == "-s" {
					links[f[3]] = f[2]
				}
			}
		case "USER":
			st.user = arg
		case "EXPOSE":
			st.expose = arg
		case "ENTRYPOINT":
			st.entrypoint = jsonArray(t, arg)
		case "CMD":
			st.cmd = jsonArray(t, arg)
		case "COPY":
			fields := strings.Fields(arg)
			st.copies[fields[len(fields)-2]] = fields[len(fields)-1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	st.links = links
	return st
}

func jsonArray(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%s: want the JSON (exec) form: %v", s, err)
	}
	return out
}

func fakeBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kfp-driver-plugin")
	if err := os.WriteFile(p, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSidecarMatchesDockerfile keeps the engine-free image and the
// Dockerfile's final stage in step: same user, port, entrypoint, command
// and binary path.
func TestSidecarMatchesDockerfile(t *testing.T) {
	requireFile(t, HostCACertificates, "ca-certificates")
	df := parseFinalStage(t, filepath.Join("..", "Dockerfile"))
	img, err := Sidecar(fakeBinary(t), "0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	if img.User != df.user {
		t.Errorf("user %q, Dockerfile %q", img.User, df.user)
	}
	port := df.expose
	if !strings.Contains(port, "/") {
		port += "/tcp"
	}
	if !slices.Equal(img.ExposedPorts, []string{port}) {
		t.Errorf("exposed ports %v, Dockerfile %q", img.ExposedPorts, df.expose)
	}
	if !slices.Equal(img.Entrypoint, df.entrypoint) || !slices.Equal(img.Cmd, df.cmd) {
		t.Errorf("entrypoint %q cmd %q, Dockerfile %q %q", img.Entrypoint, img.Cmd, df.entrypoint, df.cmd)
	}
	if dest := df.copies["/src/bin/kfp-driver-plugin"]; dest != SidecarBinary || img.Files[0].Path != dest {
		t.Errorf("binary at %s, Dockerfile copies it to %s", img.Files[0].Path, dest)
	}
	// The driver command: a link made under /out in the build stage, whose
	// tree the final stage copies to /.
	if df.copies["/out/"] != "/" {
		t.Errorf("Dockerfile copies /out/ to %q, want /", df.copies["/out/"])
	}
	var link File
	for _, f := range img.Files {
		if f.Path == DriverCommand {
			link = f
		}
	}
	if target := df.links["/out"+DriverCommand]; link.Link != SidecarBinary || target != link.Link {
		t.Errorf("%s links to %q in the image, %q in the Dockerfile; want %s", DriverCommand, link.Link, target, SidecarBinary)
	}
}

// TestSidecarImage checks the files a non-root static binary needs: the
// binary, the host's CA bundle, passwd/group naming its uid, a sticky /tmp.
func TestSidecarImage(t *testing.T) {
	requireFile(t, HostCACertificates, "ca-certificates")
	t.Setenv("SOURCE_DATE_EPOCH", "")
	bin := fakeBinary(t)
	img, err := Sidecar(bin, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sidecar.tar")
	if err := WriteTarball(out, img); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(SidecarRepository + ":1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	read, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, mustConfig(t, read), img, "7492/tcp")
	labels := mustConfig(t, read).Config.Labels
	if labels["org.opencontainers.image.version"] != "1.2.3" || labels["org.opencontainers.image.title"] != "kfp-driver-plugin" ||
		!strings.HasPrefix(labels["org.opencontainers.image.source"], "https://") {
		t.Errorf("labels %v", labels)
	}
	files := imageFiles(t, read)
	ca, err := os.ReadFile(HostCACertificates)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, files, map[string]wantFile{
		"kfp-driver-plugin":                 {typeflag: tar.TypeReg, mode: 0o755, data: "\x7fELF not really"},
		"etc/":                              {typeflag: tar.TypeDir, mode: 0o755},
		"etc/ssl/":                          {typeflag: tar.TypeDir, mode: 0o755},
		"etc/ssl/certs/":                    {typeflag: tar.TypeDir, mode: 0o755},
		"etc/ssl/certs/ca-certificates.crt": {typeflag: tar.TypeReg, mode: 0o644, data: string(ca)},
		"etc/passwd":                        {typeflag: tar.TypeReg, mode: 0o644, data: string(files["etc/passwd"].data)},
		"etc/group":                         {typeflag: tar.TypeReg, mode: 0o644, data: string(files["etc/group"].data)},
		"tmp/":                              {typeflag: tar.TypeDir, mode: 0o1777},
		"usr/":                              {typeflag: tar.TypeDir, mode: 0o755},
		"usr/local/":                        {typeflag: tar.TypeDir, mode: 0o755},
		"usr/local/bin/":                    {typeflag: tar.TypeDir, mode: 0o755},
		"usr/local/bin/driver":              {typeflag: tar.TypeSymlink, mode: 0o777, link: SidecarBinary},
	})
	passwd, group := string(files["etc/passwd"].data), string(files["etc/group"].data)
	for _, line := range []string{"root:x:0:0:", "nobody:x:65534:65534:", "kfp-driver-plugin:x:8737:8737:kfp-driver-plugin:/nonexistent:/sbin/nologin"} {
		if !strings.Contains(passwd, "\n"+line) && !strings.HasPrefix(passwd, line) {
			t.Errorf("/etc/passwd lacks %q:\n%s", line, passwd)
		}
	}
	for _, line := range []string{"root:x:0:", "nobody:x:65534:", "kfp-driver-plugin:x:8737:"} {
		if !strings.Contains(group, line+"\n") {
			t.Errorf("/etc/group lacks %q:\n%s", line, group)
		}
	}
}

func TestSidecarNeedsBinary(t *testing.T) {
	requireFile(t, HostCACertificates, "ca-certificates")
	if _, err := Sidecar(filepath.Join(t.TempDir(), "absent"), "1"); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("err = %v, want a hint to run make build", err)
	}
}
