// Command image writes the sidecar image as an OCI + docker-save tarball
// without a container engine (`make image`), then reads it back and prints
// its size.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/ociimage"
)

func main() {
	binary := flag.String("binary", "bin/kfp-driver-plugin", "the static sidecar binary (make build)")
	version := flag.String("version", "0.1.0", "image version label")
	image := flag.String("name", "", "full image name with tag (default "+ociimage.SidecarRepository+":VERSION)")
	out := flag.String("out", "bin/kfp-driver-plugin-image.tar", "tarball to write")
	flag.Parse()
	if err := run(*binary, *version, *image, *out); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(binary, version, image, out string) error {
	img, err := ociimage.Sidecar(binary, version)
	if err != nil {
		return err
	}
	if image != "" {
		img.Name = image
	}
	// The OCI manifest digest, as index.json and registries carry it; the
	// docker-save view read back below synthesizes a different manifest.
	digest, err := ociimage.Digest(img)
	if err != nil {
		return err
	}
	if err := ociimage.WriteTarball(out, img); err != nil {
		return err
	}
	return report(out, img.Name, digest)
}

// report reads the tarball back through its manifest.json, as `docker load`
// does, so a broken archive fails the build rather than the import.
func report(path, ref, digest string) error {
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return err
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	compressed, uncompressed, err := layerSizes(img)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n  image    %s@%s\n  tarball  %d bytes\n  layers   %d bytes gzip, %d bytes uncompressed\n",
		path, ref, digest, info.Size(), compressed, uncompressed)
	return nil
}

// layerSizes is what a registry stores (gzip) and what a node unpacks.
func layerSizes(img v1.Image) (compressed, uncompressed int64, err error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, 0, err
	}
	for _, l := range layers {
		size, err := l.Size()
		if err != nil {
			return 0, 0, err
		}
		compressed += size
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, 0, err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, 0, err
		}
		uncompressed += n
	}
	return compressed, uncompressed, nil
}
