package ociimage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"
)

// BusyboxPath is where Debian's busybox-static package installs its static
// binary; the image gets it at the same path.
const BusyboxPath = "/bin/busybox"

// Busybox is a minimal shell image named name: the host's static busybox at
// /bin/busybox and a symlink to it for every applet it was built with, at
// the path `busybox --list-full` gives (bin/sh, bin/sleep, usr/bin/env...),
// plus root's home, /etc/passwd, /etc/group and a world-writable /tmp. Cmd
// is sh. Append to Files to add more.
func Busybox(name string) (Image, error) {
	if _, err := os.Stat(BusyboxPath); errors.Is(err, fs.ErrNotExist) {
		return Image{}, fmt.Errorf("busybox image: %s is missing; install Debian's busybox-static package", BusyboxPath)
	} else if err != nil {
		return Image{}, fmt.Errorf("busybox image: %w", err)
	}
	applets, err := busyboxApplets()
	if err != nil {
		return Image{}, err
	}
	files := []File{
		{Path: BusyboxPath, Source: BusyboxPath, Mode: 0o755},
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\n" + userLine("nobody", 65534))},
		{Path: "/etc/group", Data: []byte(group())},
		{Path: "/root", Dir: true, Mode: 0o700},
		{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
	}
	for _, a := range applets {
		files = append(files, File{Path: a, Link: BusyboxPath})
	}
	return Image{Name: name, Files: files, Env: []string{DefaultPath}, Cmd: []string{"sh"}}, nil
}

// busyboxApplets asks the binary itself which applets it has, so the links
// follow whatever busybox version the host installed.
func busyboxApplets() ([]string, error) {
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox image: %s --list-full: %w", BusyboxPath, err)
	}
	var applets []string
	seen := map[string]bool{BusyboxPath: true}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p := path.Clean("/" + line)
		if seen[p] {
			continue
		}
		seen[p] = true
		applets = append(applets, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("busybox image: reading applet list: %w", err)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("busybox image: %s --list-full listed no applets", BusyboxPath)
	}
	return applets, nil
}
