package ociimage

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteTarball writes imgs into one tar at path (replaced atomically): an OCI
// image layout whose index.json lists every image, plus the `docker save`
// manifest.json over the same blobs. Blobs shared by several images are
// stored once. Names must be distinct.
func WriteTarball(path string, imgs ...Image) error {
	if len(imgs) == 0 {
		return fmt.Errorf("write %s: no images", path)
	}
	dir, err := os.MkdirTemp("", "ociimage-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	if err := writeLayout(dir, imgs); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tarDir(dir, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeLayout builds every image and writes the layout and manifest.json
// into dir.
func writeLayout(dir string, imgs []Image) error {
	adds := make([]mutate.IndexAddendum, 0, len(imgs))
	docker := make(tarball.Manifest, 0, len(imgs))
	seen := map[string]bool{}
	for _, img := range imgs {
		built, tag, err := build(img)
		if err != nil {
			return err
		}
		if seen[tag.String()] {
			return fmt.Errorf("image %s listed twice", tag)
		}
		seen[tag.String()] = true
		cfg, err := built.ConfigFile()
		if err != nil {
			return fmt.Errorf("image %s: %w", tag, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: built, Descriptor: v1.Descriptor{
			Annotations: map[string]string{RefNameAnnotation: tag.TagStr(), ImageNameAnnotation: tag.String()},
			// Lets importers pick by platform without opening the config.
			Platform: cfg.Platform(),
		}})
		desc, err := dockerDescriptor(built, tag)
		if err != nil {
			return fmt.Errorf("image %s: %w", tag, err)
		}
		docker = append(docker, desc)
	}
	if _, err := layout.Write(dir, mutate.AppendManifests(empty.Index, adds...)); err != nil {
		return fmt.Errorf("oci layout: %w", err)
	}
	data, err := json.Marshal(docker)
	if err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644)
}

// dockerDescriptor is the image's manifest.json entry: paths of the layout's
// blobs, so the archive carries each blob once for both readers.
func dockerDescriptor(img v1.Image, tag name.Tag) (tarball.Descriptor, error) {
	cfg, err := img.ConfigName()
	if err != nil {
		return tarball.Descriptor{}, fmt.Errorf("config digest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return tarball.Descriptor{}, fmt.Errorf("manifest: %w", err)
	}
	desc := tarball.Descriptor{Config: blobPath(cfg), RepoTags: []string{tag.String()}}
	for _, l := range m.Layers {
		desc.Layers = append(desc.Layers, blobPath(l.Digest))
	}
	return desc, nil
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// tarDir archives dir's tree, sorted (WalkDir is lexical), root-owned, with
// fixed modes and times so only content decides the bytes.
func tarDir(dir, dst string) (err error) {
	mtime, err := epoch()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	tw := tar.NewWriter(tmp)
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		return addToTar(tw, dir, p, d, mtime)
	})
	if walkErr != nil {
		return walkErr
	}
	if err := tw.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; the archive is meant to be shared.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func addToTar(tw *tar.Writer, root, p string, d fs.DirEntry, mtime time.Time) error {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Mode: 0o644, Typeflag: tar.TypeReg}
	if d.IsDir() {
		hdr.Name, hdr.Mode, hdr.Typeflag = hdr.Name+"/", 0o755, tar.TypeDir
		return tw.WriteHeader(hdr)
	}
	if !d.Type().IsRegular() {
		return fmt.Errorf("%s: unexpected file type in layout", rel)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr.Size = info.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
