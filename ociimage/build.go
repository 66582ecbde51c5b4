package ociimage

import v1 "github.com/google/go-containerregistry/pkg/v1"

// Build returns img as a go-containerregistry image (the same bytes
// WriteTarball writes), for pushing to a registry.
func Build(img Image) (v1.Image, error) {
	built, _, err := build(img)
	return built, err
}
