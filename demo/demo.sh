#!/usr/bin/env bash
# make demo: the README's first command. Installs the node's Debian packages
# when missing, builds (or reuses, cached per machine) the real etcd,
# Kubernetes (apiserver, kubelet, controller-manager, scheduler) and Argo
# (controller, argoexec, argo CLI), starts them as a one-node cluster with our
# plugin installed from manifests/ (the standalone overlay, webhook included),
# creates a real KFP-compiled workflow from the corpus in the KFP namespace
# exactly as KFP's API server creates it (the admission webhook converts it;
# no manual convert), runs it to completion on real pods (Argo's agent pod
# with our sidecar image), prints `argo get` and the phase timings, and stops
# everything. Several files run side by side in profile namespaces instead,
# converted with `kfp-driver-plugin convert`. Needs root (containerd, kubelet).
#
#   demo/demo.sh                      add_numbers with a=1, b=2
#   demo/demo.sh hello_world.yaml     any corpus workflow (convert/testdata/compiled-workflows)
#   DEMO_KEEP=1 demo/demo.sh          keep every process log in the printed directory
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GONOSUMDB=github.com/kubeflow/pipelines

./hack/node-packages.sh >/dev/null
./hack/tools.sh 2>/dev/null || ./hack/tools.sh # quiet when cached; show the build log otherwise

args=()
[[ -n ${DEMO_KEEP:-} ]] && args+=(-keep)
if [[ $# -eq 0 ]]; then
	args+=(-param a=1 -param b=2 add_numbers.yaml)
else
	args+=("$@")
fi
exec go run ./e2e/cmd/kfp-e2e "${args[@]}"
