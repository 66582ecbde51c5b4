#!/usr/bin/env bash
# Builds the real cluster binaries the tests run (etcd, kube-apiserver,
# kubectl, kubelet, kube-controller-manager, kube-scheduler, Argo
# workflow-controller/argoexec/argo, SeaweedFS weed) plus the CRDs they need into a per-machine
# cache outside the clone ($KFP_PLUGIN_TOOLS_CACHE, default
# /var/cache/kfp-driver-plugin/tools as root), so every clone on the machine
# (CI makes a fresh one) reuses them; .tools in the clone is a symlink to it. Idempotent: a
# tool is rebuilt only when its binary is missing or its stamp file names
# another version.
#
#   hack/tools.sh              build everything that is missing
#   hack/tools.sh --only NAME  build one tool (see TOOLS below) or group
#                              (argo-v4: the ARGO_V4 tools, not in the default set)
#   hack/tools.sh --force ...  rebuild even if the stamp matches
# shellcheck disable=SC2317 # build_* functions are called as "build_$name".
set -euo pipefail

ETCD_VERSION=v3.6.16
K8S_VERSION=v1.34.10
ARGO_VERSION=v3.7.18
# Argo v4 (KFP master's line), side by side with v3: binaries with a -v4
# suffix, CRDs in argo-crds-v4. The Go module proxy serves v4.0.5 only (KFP
# master bundles v4.1.2, minimum v4.0.5). Test harness only: never shipped.
ARGO_V4_VERSION=v4.0.5
# SeaweedFS (KFP's object store) publishes no module tags: a pseudo-version.
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6

TOOLS=(etcd kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler
	workflow-controller argoexec argo argo-crds kubeflow-crds weed)
# Built only on request (--only argo-v4 or --only NAME); not part of TOOLS.
ARGO_V4=(workflow-controller-v4 argoexec-v4 argo-cli-v4 argo-crds-v4)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The machine-wide cache when we may write there (root, as the node needs),
# else the user's cache; never relative to the clone.
default_cache() {
	if [[ -w /var/cache || -w /var/cache/kfp-driver-plugin ]]; then
		echo /var/cache/kfp-driver-plugin/tools
	else
		echo "${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kfp-driver-plugin/tools"
	fi
}
TOOLS_DIR=${KFP_PLUGIN_TOOLS_CACHE:-$(default_cache)}
BIN=$TOOLS_DIR/bin
SRC=$TOOLS_DIR/src
STAMPS=$TOOLS_DIR/stamps

# The Kubeflow modules are not in the checksum DB; the rest are verified.
export GONOSUMDB=github.com/kubeflow/pipelines
# Two packages at a time keeps the kube-apiserver link under ~2 GB on 2 cores.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -p=2"
# Our throwaway modules must not pick up a go.work from a parent directory.
export GOWORK=off
# Static binaries: no C toolchain needed, and argoexec can run anywhere.
export CGO_ENABLED=0

# Reproducible paths; each build adds -ldflags "-s -w" (no symbols or DWARF,
# which roughly halves the binaries) plus version variables.
GO_BUILD=(go build -trimpath)

log() { printf '%s\n' "tools.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# quiet LOG CMD...: runs CMD with its (long) module resolution chatter in LOG;
# shows the tail only when it fails.
quiet() {
	local logfile=$1
	shift
	if ! "$@" >"$logfile" 2>&1; then
		tail -n 30 "$logfile" >&2
		log "failed: $* (full output: $logfile)"
		return 1
	fi
}

stamp_ok() { # NAME VERSION [FILE]: true when FILE exists and the stamp says VERSION
	local file=${3:-$BIN/$1}
	[[ -e $file && -f $STAMPS/$1 && $(cat "$STAMPS/$1") == "$2" ]]
}

write_stamp() { mkdir -p "$STAMPS" && printf '%s\n' "$2" >"$STAMPS/$1"; }

# new_module DIR NAME: a fresh go.mod in DIR (kept between runs so that
# `go mod tidy` is cheap the second time).
new_module() {
	mkdir -p "$1"
	[[ -f $1/go.mod ]] || (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

# mod_dir / mod_gomod MODULE@VERSION: the module's directory / go.mod file in
# GOMODCACHE (downloaded if needed).
mod_dir() {
	(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$1") |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'
}

mod_gomod() {
	(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$1") |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p'
}

# module_tool DIR OUT PACKAGE VERSION: builds PACKAGE@VERSION into $BIN/OUT
# from a throwaway module in $SRC/DIR, whose requirements never reach the
# project's go.mod.
module_tool() {
	local dir=$SRC/$1
	new_module "$dir" "tools.local/$1"
	(cd "$dir" &&
		quiet setup.log go get -tool "$3@$4" &&
		quiet tidy.log go mod tidy &&
		"${GO_BUILD[@]}" -ldflags "-s -w" -o "$BIN/$2" "$3")
}

build_etcd() { module_tool etcd etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"; }

# weed is SeaweedFS's single binary (master, volume, filer, S3 and IAM), with
# ~430 requirements.
build_weed() { module_tool seaweedfs weed github.com/seaweedfs/seaweedfs/weed "$SEAWEEDFS_VERSION"; }

# staging_replaces GOMOD VERSION: one `replace` line per staging module that
# k8s.io/kubernetes replaces with ./staging/src/..., pointed at the published
# module of the matching v0.x version instead.
staging_replaces() {
	awk -v v="$2" '
		/^replace \($/ { inblock = 1; next }
		inblock && /^\)$/ { inblock = 0; next }
		{ line = $0; sub(/^replace /, "", line) }
		(inblock || $1 == "replace") && line ~ /=> \.\/staging\/src\// {
			split(line, f, /[ \t]+/)
			m = (f[1] == "") ? f[2] : f[1]
			printf "replace %s => %s %s\n", m, m, v
		}' "$1"
}

k8s_ldflags() {
	local minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	local x
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		x+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		x+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	printf '%s' "-s -w$x"
}

# k8s_module prepares .tools/src/kubernetes: k8s.io/kubernetes plus the
# staging replaces derived from its own go.mod (go install cannot build it).
k8s_module() {
	local dir=$SRC/kubernetes staging=v0.${K8S_VERSION#v1.}
	local stamp=$dir/.prepared
	# The stamp also names the tool list, so adding a tool re-tidies the module.
	[[ -f $stamp && $(cat "$stamp") == "$K8S_VERSION+node" ]] && return 0
	local gomod
	gomod=$(mod_gomod "k8s.io/kubernetes@$K8S_VERSION")
	[[ -f $gomod ]] || die "cannot download k8s.io/kubernetes@$K8S_VERSION"
	rm -rf "$dir" && mkdir -p "$dir"
	{
		printf 'module tools.local/kubernetes\n\ngo %s\n\n' "$(go env GOVERSION | sed 's/^go//')"
		printf 'require k8s.io/kubernetes %s\n\n' "$K8S_VERSION"
		staging_replaces "$gomod" "$staging"
		printf '\ntool (\n'
		printf '\tk8s.io/kubernetes/cmd/%s\n' kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler
		printf ')\n'
	} >"$dir/go.mod"
	local n
	n=$(grep -c '^replace ' "$dir/go.mod")
	log "kubernetes: $n staging replaces derived from k8s.io/kubernetes@$K8S_VERSION go.mod"
	[[ $n -gt 20 ]] || die "too few staging replaces ($n); k8s.io/kubernetes go.mod format changed?"
	(cd "$dir" && quiet tidy.log go mod tidy) || die "go mod tidy failed in $dir"
	printf '%s\n' "$K8S_VERSION+node" >"$stamp"
}

k8s_build() { # NAME: one command of k8s.io/kubernetes/cmd
	k8s_module
	(cd "$SRC/kubernetes" &&
		"${GO_BUILD[@]}" -ldflags "$(k8s_ldflags)" -o "$BIN/$1" "k8s.io/kubernetes/cmd/$1")
}

build_kube-apiserver() { k8s_build kube-apiserver; }
build_kubectl() { k8s_build kubectl; }
build_kubelet() { k8s_build kubelet; }
build_kube-controller-manager() { k8s_build kube-controller-manager; }
build_kube-scheduler() { k8s_build kube-scheduler; }

# Argo builds are parameterized by major version (v3 or v4): module path
# github.com/argoproj/argo-workflows/MAJOR, version, and the cache paths below.
# v3 keeps its original, unsuffixed paths so that an existing cache stays valid.
argo_version() { if [[ $1 == v3 ]]; then echo "$ARGO_VERSION"; else echo "$ARGO_V4_VERSION"; fi; }
argo_suffix() { [[ $1 == v3 ]] || echo "-$1"; }

# argo_source MAJOR copies Argo out of GOMODCACHE into
# .tools/src/argo-workflows[-MAJOR] and repairs what the module zip lost: the
# symlinked signal_linux.go (zips drop symlinks) and the UI bundle the argo CLI
# embeds.
argo_source() {
	local major=$1 version sfx
	version=$(argo_version "$major")
	sfx=$(argo_suffix "$major")
	local dst=$SRC/argo-workflows$sfx
	local stamp=$dst/.prepared
	[[ -f $stamp && $(cat "$stamp") == "$version" ]] && return 0
	local src
	src=$(mod_dir "github.com/argoproj/argo-workflows/$major@$version")
	[[ -d $src ]] || die "cannot download github.com/argoproj/argo-workflows/$major@$version"
	rm -rf "$dst" && mkdir -p "$SRC"
	cp -r "$src" "$dst" && chmod -R u+w "$dst"
	local os=$dst/workflow/executor/osspecific
	# In Argo's git repo signal_linux.go is a symlink to signal_darwin.go.
	[[ -f $os/signal_linux.go ]] || sed 's/^\/\/go:build.*$/\/\/go:build linux/' "$os/signal_darwin.go" >"$os/signal_linux.go"
	mkdir -p "$dst/ui/dist/app"
	[[ -f $dst/ui/dist/app/index.html ]] ||
		printf '<!doctype html><title>Argo</title><p>UI not built (kfp-driver-plugin test tools).</p>\n' >"$dst/ui/dist/app/index.html"
	printf '%s\n' "$version" >"$stamp"
}

# module_replaces GOMOD: Argo's own non-local replace directives, single-line
# or in a block, each as one `replace` line (local ones, => ./..., are its
# development setup and cannot be mirrored).
module_replaces() {
	awk '
		/^replace \($/ { inblock = 1; next }
		inblock && /^\)$/ { inblock = 0; next }
		{ line = $0; sub(/^replace /, "", line); sub(/^[ \t]+/, "", line) }
		(inblock || $1 == "replace") && line ~ /=>/ && line !~ /=>[ \t]*\.\.?\// {
			printf "replace %s\n", line
		}' "$1"
}

# argo_module MAJOR: consumer module with a local replace onto the repaired
# copy, plus Argo's own (non-local) replace lines copied from its go.mod (v3.7:
# tablewriter; v4.0.5 has none).
argo_module() {
	local major=$1 version sfx
	argo_source "$major"
	version=$(argo_version "$major")
	sfx=$(argo_suffix "$major")
	local dir=$SRC/argo$sfx mod=github.com/argoproj/argo-workflows/$major
	local stamp=$dir/.prepared
	[[ -f $stamp && $(cat "$stamp") == "$version" ]] && return 0
	rm -rf "$dir" && mkdir -p "$dir"
	{
		printf 'module tools.local/argo%s\n\ngo %s\n\n' "$sfx" "$(go env GOVERSION | sed 's/^go//')"
		printf 'require %s %s\n\n' "$mod" "$version"
		printf 'replace %s => ../argo-workflows%s\n' "$mod" "$sfx"
		module_replaces "$SRC/argo-workflows$sfx/go.mod"
		printf '\ntool (\n'
		printf '\t%s/cmd/%s\n' "$mod" workflow-controller "$mod" argoexec "$mod" argo
		printf ')\n'
	} >"$dir/go.mod"
	(cd "$dir" && quiet tidy.log go mod tidy) || die "go mod tidy failed in $dir"
	printf '%s\n' "$version" >"$stamp"
}

argo_build() { # MAJOR CMD OUT: Argo's cmd/CMD into $BIN/OUT
	local major=$1 version
	argo_module "$major"
	version=$(argo_version "$major")
	local v=github.com/argoproj/argo-workflows/$major
	(cd "$SRC/argo$(argo_suffix "$major")" &&
		"${GO_BUILD[@]}" -ldflags "-s -w -X $v.version=$version -X $v.gitTag=$version -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z" \
			-o "$BIN/$3" "$v/cmd/$2")
}

build_workflow-controller() { argo_build v3 workflow-controller workflow-controller; }
build_argoexec() { argo_build v3 argoexec argoexec; }
build_argo() { argo_build v3 argo argo; }
build_workflow-controller-v4() { argo_build v4 workflow-controller workflow-controller-v4; }
build_argoexec-v4() { argo_build v4 argoexec argoexec-v4; }
build_argo-cli-v4() { argo_build v4 argo argo-cli-v4; }

argo_crds() { # MAJOR OUT: Argo's minimal CRDs into $TOOLS_DIR/OUT
	argo_source "$1"
	local dst=$TOOLS_DIR/$2
	rm -rf "$dst" && mkdir -p "$dst"
	cp "$SRC/argo-workflows$(argo_suffix "$1")/manifests/base/crds/minimal/"*.yaml "$dst/"
}

build_argo-crds() { argo_crds v3 argo-crds; }
# v4's release manifests default to the full CRDs (schemas with CEL rules):
# those go into full/, which the harness installs only when asked.
build_argo-crds-v4() {
	argo_crds v4 argo-crds-v4
	mkdir -p "$TOOLS_DIR/argo-crds-v4/full"
	cp "$SRC/argo-workflows-v4/manifests/base/crds/full/"*.yaml "$TOOLS_DIR/argo-crds-v4/full/"
}

build_kubeflow-crds() {
	local dst=$TOOLS_DIR/kubeflow-crds
	rm -rf "$dst" && mkdir -p "$dst"
	cp "$ROOT/hack/crds/"*.yaml "$dst/"
}

version_of() {
	case $1 in
	etcd) echo "$ETCD_VERSION" ;;
	kube-apiserver | kubectl | kubelet | kube-controller-manager | kube-scheduler) echo "$K8S_VERSION" ;;
	workflow-controller | argoexec | argo | argo-crds) echo "$ARGO_VERSION" ;;
	workflow-controller-v4 | argoexec-v4 | argo-cli-v4) echo "$ARGO_V4_VERSION" ;;
	argo-crds-v4) echo "$ARGO_V4_VERSION+full" ;; # minimal, plus full/
	weed) echo "$SEAWEEDFS_VERSION" ;;
	# Our own CRDs: the stamp is their content hash, so edits are picked up.
	kubeflow-crds) cat "$ROOT"/hack/crds/*.yaml | sha256sum | cut -c1-16 ;;
	*) die "unknown tool $1 (known: ${TOOLS[*]} ${ARGO_V4[*]}; group argo-v4)" ;;
	esac
}

output_of() {
	case $1 in
	argo-crds | argo-crds-v4 | kubeflow-crds) echo "$TOOLS_DIR/$1" ;;
	*) echo "$BIN/$1" ;;
	esac
}

ensure() { # NAME
	local name=$1 version out start
	version=$(version_of "$name")
	out=$(output_of "$name")
	if [[ $FORCE == 0 ]] && stamp_ok "$name" "$version" "$out"; then
		log "$name $version: up to date"
		return 0
	fi
	log "$name $version: building..."
	start=$SECONDS
	rm -f "$STAMPS/$name"
	"build_$name" || die "$name $version: build failed"
	write_stamp "$name" "$version"
	log "$name $version: built in $((SECONDS - start))s"
}

# link_clone points the clone's .tools at the cache (tests look there). A real
# .tools directory left by an older checkout is moved into the cache first when
# the cache is empty, so its binaries are not built twice.
link_clone() {
	local link=$ROOT/.tools
	[[ -L $link && $(readlink "$link") == "$TOOLS_DIR" ]] && return 0
	if [[ -d $link && ! -L $link ]]; then
		if [[ -z $(ls -A "$BIN") ]]; then
			log "moving the clone's old .tools into the cache $TOOLS_DIR"
			cp -a "$link/." "$TOOLS_DIR/"
		fi
		rm -rf "$link"
	fi
	ln -sfn "$TOOLS_DIR" "$link"
}

main() {
	local only=() start=$SECONDS
	FORCE=0
	while [[ $# -gt 0 ]]; do
		case $1 in
		--only)
			case ${2:?--only needs a tool name} in
			argo-v4 | ARGO_V4) only+=("${ARGO_V4[@]}") ;;
			*) only+=("$2") ;;
			esac
			shift 2
			;;
		--force) FORCE=1; shift ;;
		-h | --help) sed -n '2,14p' "$0"; echo "tools: ${TOOLS[*]}"; echo "argo-v4: ${ARGO_V4[*]}"; exit 0 ;;
		*) die "unknown argument $1" ;;
		esac
	done
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "$BIN" "$SRC" "$STAMPS"
	link_clone
	# go mod download -json needs a module context; an empty one suffices.
	[[ -f $TOOLS_DIR/go.mod ]] || printf 'module tools.local/cache\n\ngo 1.22\n' >"$TOOLS_DIR/go.mod"
	[[ ${#only[@]} -gt 0 ]] || only=("${TOOLS[@]}")
	local name
	for name in "${only[@]}"; do
		version_of "$name" >/dev/null
		ensure "$name"
	done
	echo "tools ready in $BIN, linked as .tools ($((SECONDS - start))s)"
}

# On one line: bash reads scripts lazily, so an edit of this file during a
# long build must not be executed after main returns.
main "$@"; exit
