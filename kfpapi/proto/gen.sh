#!/bin/sh
# Regenerates the Go code for the .proto files here. CI does not run this:
# the output is committed. Needs protoc (3.21 was used) and the pinned plugins:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
set -eu
cd "$(dirname "$0")/../.."
# google/rpc/status.proto is not shipped with protoc; the copy inside the
# grpc-gateway module (already in go.sum) declares the same go_package as
# genproto's status package, which the generated code links.
googleapis="$(go list -m -f '{{.Dir}}' github.com/grpc-ecosystem/grpc-gateway)/third_party/googleapis"
# Run from the module root so the descriptors register as
# "kfpapi/proto/*.proto", paths no other package in the binary uses.
PATH="$(go env GOPATH)/bin:$PATH" protoc -I . -I "$googleapis" \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	kfpapi/proto/artifact.proto kfpapi/proto/filter.proto \
	kfpapi/proto/pipeline.proto kfpapi/proto/run.proto
