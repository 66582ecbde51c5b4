#!/usr/bin/env bash
# make demo: the README's first command. Builds (or reuses, in .tools/) the
# real etcd, kube-apiserver, Argo controller, argoexec and argo CLI, starts
# them with our plugin registered, converts a real KFP-compiled workflow from
# the corpus with `kfp-driver-plugin convert`, runs it to completion (Argo's
# agent pod played on this host: argoexec agent init/main plus our real
# `serve`), prints `argo get`, and stops everything.
#
#   demo/demo.sh                      add_numbers with a=1, b=2
#   demo/demo.sh hello_world.yaml     any corpus workflow (convert/testdata/compiled-workflows)
#   DEMO_KEEP=1 demo/demo.sh          keep every process log in the printed directory
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GONOSUMDB=github.com/kubeflow/pipelines

./hack/tools.sh 2>/dev/null || ./hack/tools.sh # quiet when cached; show the build log otherwise

args=()
[[ -n ${DEMO_KEEP:-} ]] && args+=(-keep)
if [[ $# -eq 0 ]]; then
	args+=(-param a=1 -param b=2 add_numbers.yaml)
else
	args+=("$@")
fi
exec go run ./e2e/cmd/kfp-e2e "${args[@]}"
