package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/e2e/kfpsdk"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/ociimage"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
)

// Images the workflows and the install name. Nothing is pulled from
// outside: the sidecar image is `make image`'s, imported into the node's
// containerd as an admin would; the others are pushed to the node's
// registry, which every registry host is mirrored to.
const (
	// SidecarImage is the plugin ConfigMap's default image.
	SidecarImage = pluginconfig.DefaultImage
	// ArgoexecImage is the v3 workflow-controller's default executor image
	// (Argo's own build names it after its version; see argoexecImage).
	ArgoexecImage = "quay.io/argoproj/argoexec:v3.7.18"
	// LauncherImage is the launcher image KFP's compiled workflows name.
	LauncherImage = "ghcr.io/kubeflow/kfp-launcher:latest"
	// StockDriverImage is the driver image KFP's compiled workflows name.
	// Here our image serves it: its `driver` is the one-shot mode, as an
	// install setting V2_DRIVER_IMAGE to our image would run it.
	StockDriverImage = "ghcr.io/kubeflow/kfp-driver:latest"
	// ModelcarImage is the oci:// model modelcar.yaml imports.
	ModelcarImage = "registry.domain.local/modelcar:test"
	// launcherUID runs the launcher's init container (runAsNonRoot).
	launcherUID = "65534:65534"
)

// argoexecImage is the executor image the release's controller defaults to:
// quay.io/argoproj/argoexec named after its version (v3 and v4 alike).
func argoexecImage(r testenv.ArgoRelease) string { return "quay.io/argoproj/argoexec:" + r.Version }

// modelFiles are the files modelcar.yaml's component expects in the model.
var modelFiles = []string{"added_tokens.json", "config.json", "generation_config.json", "merges.txt",
	"model.safetensors", "normalizer.json", "preprocessor_config.json", "special_tokens_map.json", "tokenizer.json",
	"tokenizer_config.json", "vocab.json"}

// loadImages builds and loads every image. User images (python:3.11,
// alpine, ...) all get the user image (setUserImage) through the
// registry's fallback.
func (s *Stack) loadImages(ctx context.Context) error {
	if err := s.loadSidecar(ctx); err != nil {
		return err
	}
	busybox, err := ociimage.Busybox("example.invalid/busybox:1")
	if err != nil {
		return err
	}
	busybox.FastCompression = true
	if err := s.setUserImage(busybox); err != nil {
		return err
	}
	argoexec, err := testenv.ToolPath(s.Cluster.ToolsDir, s.Cluster.Argo.Argoexec)
	if err != nil {
		return err
	}
	// argoexec plus busybox: the suite execs a shell in the agent's main
	// container to call the sidecar with a wrong token.
	if err := s.pushImage(ctx, withFiles(busybox, argoexecImage(s.Cluster.Argo), "8737",
		ociimage.File{Path: "/bin/argoexec", Source: argoexec, Mode: 0o755})); err != nil {
		return err
	}
	// The model image modelcar.yaml imports (oci://): a modelcar carries its
	// files under /models, which the driver's pre-pull container checks and
	// the component lists (it expects a Hugging Face model's files).
	var model []ociimage.File
	for _, f := range modelFiles {
		model = append(model, ociimage.File{Path: "/models/" + f, Data: []byte("e2e " + f + "\n")})
	}
	if err := s.pushImage(ctx, withFiles(busybox, ModelcarImage, "", model...)); err != nil {
		return err
	}
	launcher := filepath.Join(s.Dir, "kfp-launcher-standin")
	if err := goBuild(ctx, launcher, "./e2e/cmd/kfp-launcher-standin"); err != nil {
		return err
	}
	return s.pushImage(ctx, ociimage.Image{Name: LauncherImage, User: launcherUID, Env: []string{ociimage.DefaultPath},
		Files: []ociimage.File{{Path: "/usr/local/bin/launcher-v2", Source: launcher, Mode: 0o755}}})
}

// loadSidecar builds the sidecar image exactly as `make image` does and
// imports the tarball into containerd; the same image also serves KFP's
// driver image name (StockDriverImage) from the registry.
func (s *Stack) loadSidecar(ctx context.Context) error {
	img, err := ociimage.Sidecar(s.PluginBin, pluginconfig.Version)
	if err != nil {
		return err
	}
	tar := filepath.Join(s.Dir, "kfp-driver-plugin-image.tar")
	if err := ociimage.WriteTarball(tar, img); err != nil {
		return err
	}
	if err := s.Node.ImportImage(ctx, tar); err != nil {
		return err
	}
	img.Name = StockDriverImage
	return s.pushImage(ctx, img)
}

// setUserImage makes what every user image is here: a busybox userland,
// the host's Python runtime and our stand-in of the KFP SDK's run-time half
// (e2e/kfpsdk), so container components' commands and Python-function
// components both run for real.
func (s *Stack) setUserImage(busybox ociimage.Image) error {
	python, err := ociimage.PythonRuntime()
	if err != nil {
		return err
	}
	user := withFiles(busybox, "example.invalid/user-image:1", "", append(python, kfpsdk.Files()...)...)
	img, err := ociimage.Build(user)
	if err != nil {
		return err
	}
	s.Node.Registry.SetFallback(img)
	return nil
}

func withFiles(base ociimage.Image, name, user string, files ...ociimage.File) ociimage.Image {
	base.Name, base.User = name, user
	base.Files = append(append([]ociimage.File(nil), base.Files...), files...)
	return base
}

func (s *Stack) pushImage(ctx context.Context, img ociimage.Image) error {
	built, err := ociimage.Build(img)
	if err != nil {
		return err
	}
	return s.Node.Registry.Push(ctx, img.Name, built)
}

// goBuild builds a static binary of pkg (a path in this module): the
// images have no C library.
func goBuild(ctx context.Context, out, pkg string) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
