package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is a File resolved for the layer tar: relative clean path, content
// read, mode defaulted.
type entry struct {
	name     string // relative, no leading slash, e.g. etc/passwd
	typeflag byte
	mode     int64
	uid, gid int
	data     []byte
	link     string
}

// newLayer builds the uncompressed layer tar in memory and hands it to
// go-containerregistry, which gzips it (stdlib gzip: deterministic) once and
// keeps the result for the digest and the layout write. level is a gzip
// level (Image.FastCompression picks it).
func newLayer(files []File, mtime time.Time, level int) (v1.Layer, error) {
	raw, err := layerTar(files, mtime)
	if err != nil {
		return nil, err
	}
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	layer, err := tarball.LayerFromOpener(opener,
		tarball.WithMediaType(types.OCILayer),
		tarball.WithCompressionLevel(level),
		tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return layer, nil
}

// layerTar writes the entries sorted by path, parents before children, with
// any missing parent directory added (root-owned, 0755) so that runtimes do
// not invent their modes.
func layerTar(files []File, mtime time.Time) ([]byte, error) {
	entries, err := resolveAll(files)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := writeEntry(tw, e, mtime); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer tar: %w", err)
	}
	return buf.Bytes(), nil
}

func resolveAll(files []File) ([]entry, error) {
	byName := make(map[string]entry, len(files))
	for _, f := range files {
		e, err := resolve(f)
		if err != nil {
			return nil, err
		}
		if _, dup := byName[e.name]; dup {
			return nil, fmt.Errorf("file %s: listed twice", f.Path)
		}
		byName[e.name] = e
	}
	for n := range byName {
		for dir := path.Dir(n); dir != "."; dir = path.Dir(dir) {
			if existing, ok := byName[dir]; ok {
				if existing.typeflag != tar.TypeDir {
					return nil, fmt.Errorf("file /%s: parent /%s is not a directory", n, dir)
				}
				continue
			}
			byName[dir] = entry{name: dir, typeflag: tar.TypeDir, mode: 0o755}
		}
	}
	entries := make([]entry, 0, len(byName))
	for _, e := range byName {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, nil
}

// resolve validates one File and reads its Source.
func resolve(f File) (entry, error) {
	clean := path.Clean("/" + f.Path)
	if !strings.HasPrefix(f.Path, "/") || clean == "/" || clean != f.Path {
		return entry{}, fmt.Errorf("file %q: path must be absolute, clean and not /", f.Path)
	}
	kinds := 0
	for _, set := range []bool{f.Dir, f.Link != "", f.Source != "", f.Data != nil} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return entry{}, fmt.Errorf("file %s: set only one of Dir, Link, Source and Data", f.Path)
	}
	e := entry{name: clean[1:], uid: f.UID, gid: f.GID, mode: tarMode(f.Mode)}
	switch {
	case f.Dir:
		e.typeflag = tar.TypeDir
		e.mode = orDefault(e.mode, 0o755)
	case f.Link != "":
		// Symlink permissions are ignored by Linux; 0777 is what they report.
		e.typeflag, e.link, e.mode = tar.TypeSymlink, f.Link, 0o777
	case f.Source != "":
		data, info, err := readSource(f.Source)
		if err != nil {
			return entry{}, fmt.Errorf("file %s: %w", f.Path, err)
		}
		e.typeflag, e.data = tar.TypeReg, data
		e.mode = orDefault(e.mode, int64(info.Mode().Perm()))
	default:
		e.typeflag, e.data = tar.TypeReg, f.Data
		e.mode = orDefault(e.mode, 0o644)
	}
	return e, nil
}

func readSource(p string) ([]byte, os.FileInfo, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("source %s: not a regular file", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	return data, info, nil
}

func orDefault(mode, def int64) int64 {
	if mode == 0 {
		return def
	}
	return mode
}

// tarMode maps Go's mode bits to the Unix ones a tar header carries.
func tarMode(m os.FileMode) int64 {
	mode := int64(m.Perm())
	if m&os.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

func writeEntry(tw *tar.Writer, e entry, mtime time.Time) error {
	hdr := &tar.Header{
		Typeflag: e.typeflag,
		Name:     e.name,
		Linkname: e.link,
		Mode:     e.mode,
		Uid:      e.uid,
		Gid:      e.gid,
		ModTime:  mtime,
	}
	if e.typeflag == tar.TypeDir {
		hdr.Name += "/"
	}
	if e.typeflag == tar.TypeReg {
		hdr.Size = int64(len(e.data))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("layer tar: /%s: %w", e.name, err)
	}
	if _, err := tw.Write(e.data); err != nil {
		return fmt.Errorf("layer tar: /%s: %w", e.name, err)
	}
	return nil
}
