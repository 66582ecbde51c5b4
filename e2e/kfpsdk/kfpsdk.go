package kfpsdk

import (
	"embed"
	"io/fs"
	"path"
	"strings"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/ociimage"
)

// tree is the Python packages kfp and pip. all: because Python's package
// files (__init__.py, __main__.py) start with an underscore.
//
//go:embed all:python
var tree embed.FS

// SitePackages is where Files puts the packages: Debian's python3 has
// /usr/lib/python3/dist-packages on sys.path whatever its minor version, so
// the image needs no PYTHONPATH (which a component's env could replace).
const SitePackages = "/usr/lib/python3/dist-packages"

// MountRootEnv, for tests only, is a directory the executor puts the
// artifact mounts (/gcs, /s3, /minio, /oci, /kfp-workspace) under.
const MountRootEnv = "KFP_SDK_STANDIN_MOUNT_ROOT"

// CannotRun is the exit status of a task the image cannot run (pip cannot
// install a package, a module is missing): a shell's "command not found",
// which the launcher stand-in reads the same way.
const CannotRun = 127

// PipCommands are the pip executables Files adds; the compiled components
// call pip only when `command -v pip` finds one (else they bootstrap it with
// ensurepip, which the runtime leaves out).
var PipCommands = []string{"/usr/local/bin/pip", "/usr/local/bin/pip3"}

const pipScript = "#!/bin/sh\nexec python3 -m pip \"$@\"\n"

// Files are the stand-in's files in the image: the kfp and pip packages
// under SitePackages and the pip commands.
func Files() []ociimage.File {
	var files []ociimage.File
	err := fs.WalkDir(tree, "python", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return fs.SkipDir // left by running Python in the source tree
			}
			return nil
		}
		if !strings.HasSuffix(p, ".py") {
			return nil
		}
		data, err := tree.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, ociimage.File{Path: path.Join(SitePackages, strings.TrimPrefix(p, "python/")), Data: data, Mode: 0o644})
		return nil
	})
	if err != nil {
		panic("kfpsdk: embedded tree: " + err.Error()) // the embed is compiled in: cannot fail at run time
	}
	for _, p := range PipCommands {
		files = append(files, ociimage.File{Path: p, Data: []byte(pipScript), Mode: 0o755})
	}
	return files
}
