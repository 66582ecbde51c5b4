// Package manifests holds the kustomize manifests (base, overlays,
// components) and the tests that build them with the real kubectl and apply
// them to a real kube-apiserver. There is no Go code to import here.
package manifests
