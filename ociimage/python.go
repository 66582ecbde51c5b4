package ociimage

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// PythonLink is the host interpreter PythonRuntime copies (Debian's python3
// package makes it a link to the versioned binary).
const PythonLink = "/usr/bin/python3"

// pythonHint says which Debian packages give PythonRuntime what it copies.
const pythonHint = "install python3 (Debian package python3-minimal/libpython3.11-stdlib)"

// multiarch maps GOARCH to Debian's multiarch triplet, the directory name
// its libraries live under.
var multiarch = map[string]string{
	"amd64":   "x86_64-linux-gnu",
	"arm64":   "aarch64-linux-gnu",
	"ppc64le": "powerpc64le-linux-gnu",
	"s390x":   "s390x-linux-gnu",
}

// stdlibSkipped are top-level stdlib entries no component needs: tests, GUI
// and IDE code, 2to3, pip bootstrap, docs, the C build kit and third-party
// package directories. They are a third of the tree.
var stdlibSkipped = map[string]bool{
	"test": true, "idlelib": true, "tkinter": true, "turtledemo": true,
	"lib2to3": true, "ensurepip": true, "pydoc_data": true, "distutils": true,
	"site-packages": true, "dist-packages": true,
}

var pythonBinary = regexp.MustCompile(`^python3\.[0-9]+$`)

// PythonRuntime returns the files that make the host's Debian python3 run
// in an image with no C library (the busybox one): the interpreter at
// /usr/bin/python3.X with /usr/bin/python3 and /usr/local/bin/python3 links,
// its standard library /usr/lib/python3.X (without tests, GUI, build kit and
// bytecode caches; the interpreter compiles what it imports), and every
// shared library the interpreter and the lib-dynload extension modules load,
// with the dynamic loader. A lib-dynload module whose libraries the host
// lacks is left out: importing it fails as it would on a slim image.
func PythonRuntime() ([]File, error) { return pythonRuntime(PythonLink) }

// pythonRuntime copies the interpreter link names (tests name a missing one).
func pythonRuntime(link string) ([]File, error) {
	real, err := filepath.EvalSymlinks(link)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("python runtime: %s is missing; %s", link, pythonHint)
	} else if err != nil {
		return nil, fmt.Errorf("python runtime: %w", err)
	}
	name := filepath.Base(real)
	if !pythonBinary.MatchString(name) {
		return nil, fmt.Errorf("python runtime: %s resolves to %s, not a python3.X binary", link, real)
	}
	triplet, ok := multiarch[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("python runtime: no Debian multiarch directory known for %s", runtime.GOARCH)
	}
	libs := newLibResolver([]string{"/lib/" + triplet, "/usr/lib/" + triplet})

	bin := "/usr/bin/" + name
	files := []File{
		{Path: bin, Source: real, Mode: 0o755},
		{Path: PythonLink, Link: name},
		{Path: "/usr/local/bin/python3", Link: bin},
	}
	if err := libs.require(real); err != nil {
		return nil, fmt.Errorf("python runtime: %s: %w", real, err)
	}
	interp, err := programInterpreter(real)
	if err != nil {
		return nil, fmt.Errorf("python runtime: %w", err)
	}

	stdlib := "/usr/lib/" + name
	if st, err := os.Stat(stdlib); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("python runtime: standard library %s is missing; %s", stdlib, pythonHint)
	}
	lib, err := stdlibFiles(stdlib, name, libs)
	if err != nil {
		return nil, fmt.Errorf("python runtime: %w", err)
	}
	files = append(files, lib...)
	files = append(files, libs.files(interp)...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// stdlibFiles lists the standard library to copy. Links are copied as the
// files they point to: some point outside the tree (sitecustomize.py into
// /etc), and the few in-tree ones are small.
func stdlibFiles(root, name string, libs *libResolver) ([]File, error) {
	configDir := "config-" + strings.TrimPrefix(name, "python") + "-"
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			top := !strings.Contains(rel, "/")
			if d.Name() == "__pycache__" || top && (stdlibSkipped[rel] || strings.HasPrefix(rel, configDir)) {
				return filepath.SkipDir
			}
			return nil
		}
		src := p
		if d.Type()&fs.ModeSymlink != 0 {
			if src, err = filepath.EvalSymlinks(p); err != nil {
				return nil // dangling: nothing to copy
			}
		}
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		if path.Dir(rel) == "lib-dynload" && strings.HasSuffix(rel, ".so") {
			if err := libs.require(src); err != nil {
				return nil // its libraries are not on the host: left out
			}
		}
		files = append(files, File{Path: path.Join(root, rel), Source: src})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("standard library %s: %w", root, err)
	}
	return files, nil
}

// libResolver collects the shared libraries ELF files need, following
// DT_NEEDED through the multiarch directories the way the dynamic loader
// does when it has no ld.so.cache (the image has none).
type libResolver struct {
	dirs  []string
	found map[string]string // soname -> image path (the directory it was found in)
}

func newLibResolver(dirs []string) *libResolver {
	return &libResolver{dirs: dirs, found: map[string]string{}}
}

// require adds the libraries file needs, all or none: a file with a missing
// library leaves the set as it was.
func (r *libResolver) require(file string) error {
	added := map[string]string{}
	if err := r.walk(file, added); err != nil {
		return err
	}
	for so, p := range added {
		r.found[so] = p
	}
	return nil
}

func (r *libResolver) walk(file string, added map[string]string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("read ELF %s: %w", file, err)
	}
	needed, err := f.ImportedLibraries()
	f.Close()
	if err != nil {
		return fmt.Errorf("read ELF %s: %w", file, err)
	}
	for _, so := range needed {
		if _, ok := r.found[so]; ok {
			continue
		}
		if _, ok := added[so]; ok {
			continue
		}
		p, err := r.lookup(so)
		if err != nil {
			return err
		}
		added[so] = p
		if err := r.walk(p, added); err != nil {
			return err
		}
	}
	return nil
}

func (r *libResolver) lookup(so string) (string, error) {
	for _, d := range r.dirs {
		p := d + "/" + so
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("library %s is not in %s", so, strings.Join(r.dirs, " or "))
}

// files are the libraries found, each as a regular file under its soname
// (the host's version links are not needed), and the program interpreter at
// its absolute path: a link to the copy under its soname when a library
// also names it (libc does), else the file itself.
func (r *libResolver) files(interp string) []File {
	var out []File
	for _, p := range r.found {
		out = append(out, File{Path: p, Source: p})
	}
	if p, ok := r.found[path.Base(interp)]; ok {
		if p != interp {
			out = append(out, File{Path: interp, Link: p})
		}
		return out
	}
	return append(out, File{Path: interp, Source: interp})
}

// programInterpreter reads PT_INTERP, the dynamic loader the kernel starts
// for a dynamically linked program.
func programInterpreter(file string) (string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return "", fmt.Errorf("read ELF %s: %w", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("read ELF %s: interpreter: %w", file, err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", fmt.Errorf("%s is not dynamically linked (no PT_INTERP)", file)
}
