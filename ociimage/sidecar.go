package ociimage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The sidecar image's fixed parts; the Dockerfile's final stage states the
// same values and TestSidecarMatchesDockerfile keeps the two in step.
const (
	SidecarRepository = "ghcr.io/kfp-driver-plugin/kfp-driver-plugin"
	SidecarBinary     = "/kfp-driver-plugin"
	// SidecarUID owns Argo's token file (mode 0440) in the agent pod, so the
	// sidecar must run as it to read the token.
	SidecarUID  = 8737
	SidecarPort = 7492
	// HostCACertificates is Debian's ca-certificates bundle; the image gets a
	// copy at the same path, where Go's crypto/x509 looks first.
	HostCACertificates = "/etc/ssl/certs/ca-certificates.crt"
	// DriverCommand links the binary under the name KFP's compiled
	// workflows run in the driver image (the one-shot mode, package drive),
	// on the image's PATH.
	DriverCommand = "/usr/local/bin/driver"
	sidecarUser   = "kfp-driver-plugin"
	sourceURL     = "https://github.com/kfp-driver-plugin/kfp-driver-plugin"
)

// Sidecar is the image the Dockerfile builds, from the static binary at
// binaryPath (`make build`): the binary, CA certificates, passwd/group
// entries for uid 8737 plus root and nobody, and a world-writable /tmp, as
// on distroless. Its Name is SidecarRepository:version; set Name to tag it
// otherwise.
func Sidecar(binaryPath, version string) (Image, error) {
	if _, err := os.Stat(HostCACertificates); errors.Is(err, fs.ErrNotExist) {
		return Image{}, fmt.Errorf("sidecar image: %s is missing; install Debian's ca-certificates package", HostCACertificates)
	} else if err != nil {
		return Image{}, fmt.Errorf("sidecar image: %w", err)
	}
	if _, err := os.Stat(binaryPath); err != nil {
		return Image{}, fmt.Errorf("sidecar image: binary (build it with `make build`): %w", err)
	}
	uid := fmt.Sprint(SidecarUID)
	return Image{
		Name: SidecarRepository + ":" + version,
		Files: []File{
			{Path: SidecarBinary, Source: binaryPath, Mode: 0o755},
			{Path: DriverCommand, Link: SidecarBinary},
			{Path: HostCACertificates, Source: HostCACertificates, Mode: 0o644},
			{Path: "/etc/passwd", Data: []byte(passwd(userLine(sidecarUser, SidecarUID)))},
			{Path: "/etc/group", Data: []byte(group(groupLine(sidecarUser, SidecarUID)))},
			{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
		},
		User:         uid + ":" + uid,
		Entrypoint:   []string{SidecarBinary},
		Cmd:          []string{"serve"},
		Env:          []string{DefaultPath, "SSL_CERT_FILE=" + HostCACertificates},
		ExposedPorts: []string{fmt.Sprintf("%d/tcp", SidecarPort)},
		Labels: map[string]string{
			"org.opencontainers.image.title":   "kfp-driver-plugin",
			"org.opencontainers.image.version": version,
			"org.opencontainers.image.source":  sourceURL,
		},
	}, nil
}

// passwd and group always list root and nobody: programs that look up their
// own uid, or 65534 for NFS-style squashing, expect them.
func passwd(extra ...string) string {
	s := "root:x:0:0:root:/root:/sbin/nologin\n" + userLine("nobody", 65534)
	for _, l := range extra {
		s += l
	}
	return s
}

func group(extra ...string) string {
	s := "root:x:0:\n" + groupLine("nobody", 65534)
	for _, l := range extra {
		s += l
	}
	return s
}

// userLine is a login-less account: no home directory, no shell.
func userLine(name string, id int) string {
	return fmt.Sprintf("%s:x:%d:%d:%s:/nonexistent:/sbin/nologin\n", name, id, id, name)
}

func groupLine(name string, id int) string { return fmt.Sprintf("%s:x:%d:\n", name, id) }
