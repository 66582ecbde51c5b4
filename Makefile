# kfp-driver-plugin. `make test` is the README's test command and what CI runs.
SHELL := /bin/bash
VERSION ?= 0.1.0
IMAGE ?= ghcr.io/kfp-driver-plugin/kfp-driver-plugin:$(VERSION)
export GONOSUMDB := github.com/kubeflow/pipelines
export GOFLAGS := -mod=mod
FUZZTIME ?= 30s
HANDLER_FUZZTIME ?= 60s
SOAK_MINUTES ?= 2

.PHONY: build test unit e2e-suite lint fuzz soak bench bench-profile bench-go bench-node tools image docker-image manifests plugin-yaml demo e2e

## build: the static binary in bin/ (same command as the Dockerfile's build stage)
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/kfp-driver-plugin .

## tools: install the node's Debian packages when missing; build or reuse the real etcd, Kubernetes
## (apiserver, kubectl, kubelet, controller-manager, scheduler) and Argo binaries, v3 and (for the native e2e) v4
## (cached per machine, linked as .tools)
tools:
	./hack/node-packages.sh
	./hack/tools.sh
	./hack/tools.sh --only argo-v4

## test: everything CI checks: tools, lint, unit + integration tests with -race, the end-to-end suite, a short fuzz run
test: tools lint unit e2e-suite fuzz

lint:
	go vet ./...
	cd argov4 && go vet ./...
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# argov4 is a nested, test-only module (Argo v4 never reaches the main module's go.mod or the binary).
unit:
	KFP_PLUGIN_REQUIRE_TOOLS=1 go test -race -count=1 -timeout 30m $$(go list ./... | grep -v '/e2e$$')
	cd argov4 && go test -race -count=1 -timeout 10m ./...

# The end-to-end suite without -race: what it tests runs as built binaries in pods (the race detector cannot see
# them), its own process is the harness, and -race made the image builds alone take minutes. Two runs, one stack
# each (one node per machine): KFP 2.x's MLMD line on Argo v3.7.18, then KFP master's native line on Argo v4.0.5.
e2e-suite:
	KFP_PLUGIN_REQUIRE_TOOLS=1 go test -count=1 -timeout 75m ./e2e
	KFP_PLUGIN_REQUIRE_TOOLS=1 KFP_PLUGIN_ARGO=v4 go test -count=1 -timeout 45m -run '^TestEndToEnd$$' ./e2e

# hack/fuzz.sh tells Go 1.26's fuzzing-coordinator deadline race (golang/go#75804) from a finding.
fuzz:
	./hack/fuzz.sh ./plugin FuzzDecodeArgs $(FUZZTIME)
	./hack/fuzz.sh ./plugin FuzzHandler $(HANDLER_FUZZTIME)
	./hack/fuzz.sh ./webhook FuzzAdmission $(FUZZTIME)

## soak: SOAK_MINUTES (2) of 16 concurrent callers against `serve` and the MLMD test server on 127.0.0.1
soak: build
	go run ./cmd/soak -binary bin/kfp-driver-plugin -minutes $(SOAK_MINUTES)

## bench: one table (cmd/bench) of the sidecar's figures and their targets: a real `serve` and the MLMD test server
## on loopback, image and binary size; BENCH_WITH_NODE=1 adds the real node's rows (bench-node first: ~25 min, root)
bench: image
	@if [ "$(BENCH_WITH_NODE)" = 1 ]; then set -o pipefail; $(MAKE) --no-print-directory bench-node | tee bin/bench-node.txt; fi
	go run ./cmd/bench -binary bin/kfp-driver-plugin -image bin/kfp-driver-plugin-image.tar $(if $(filter 1,$(BENCH_WITH_NODE)),-node bin/bench-node.txt)

## bench-profile: CPU and allocation profiles of the 16-caller CONTAINER load in bin/profile (a -tags pprof build)
bench-profile:
	CGO_ENABLED=0 go build -tags pprof -trimpath -o bin/kfp-driver-plugin-pprof .
	go run ./cmd/bench -binary bin/kfp-driver-plugin-pprof -profile bin/profile
	@echo "go tool pprof -top bin/kfp-driver-plugin-pprof bin/profile/cpu.pprof"

## bench-go: the Go benchmarks of parts (handler overhead, start-up, idle RSS, in- vs out-of-process steps)
bench-go: build
	go test -run '^$$' -bench . -benchtime 2000x ./plugin .

## bench-node: a pipeline's wall time on the real node, plugin vs driver pods from our image, under Argo's default
## and other controller settings, one workflow at a time (BENCH_RUNS runs each; about 25 min at 1), and a
## CONTAINER step in the sidecar's process vs as its own `drive` process
BENCH_RUNS ?= 1
bench-node: tools
	go test -run '^$$' -bench 'ContainerStep' -benchtime 20x .
	KFP_PLUGIN_REQUIRE_TOOLS=1 go test -run '^$$' -bench '$(or $(BENCH_NODE),PipelineWallTime)' -benchtime $(BENCH_RUNS)x -timeout 150m ./e2e

## plugin-yaml: regenerate plugin.yaml from the defaults
plugin-yaml:
	go run . configmap --format plugin > plugin.yaml

## manifests: regenerate the base plugin ConfigMap from the defaults
manifests:
	@{ sed -n '1,/^apiVersion/p' manifests/base/plugin-configmap.yaml | sed '$$d'; go run . configmap; } > manifests/base/plugin-configmap.yaml.new
	mv manifests/base/plugin-configmap.yaml.new manifests/base/plugin-configmap.yaml

## image: the sidecar image as bin/kfp-driver-plugin-image.tar (OCI layout + docker-save manifest), no container engine needed
image: build
	go run ./hack/image -binary bin/kfp-driver-plugin -version $(VERSION) -name $(IMAGE) -out bin/kfp-driver-plugin-image.tar

## docker-image: the same image through the Dockerfile, for machines with a container engine
docker-image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

## demo: the README's first command: a real KFP workflow, converted, through real Argo with the plugin; prints `argo get`
demo:
	./demo/demo.sh

## e2e: only the end-to-end suite (also part of `make test`); E2E_RUN=regexp picks cases, e.g. E2E_RUN=TestEndToEnd/cases/corpus/flip_coin;
## E2E_ARGO=v4 runs the native line's stack instead (E2E_RUN=TestEndToEnd/cases/native/add_numbers)
e2e: tools
	KFP_PLUGIN_REQUIRE_TOOLS=1 $(if $(E2E_ARGO),KFP_PLUGIN_ARGO=$(E2E_ARGO)) go test -count=1 -v -timeout 60m -run '$(or $(E2E_RUN),.)' ./e2e
