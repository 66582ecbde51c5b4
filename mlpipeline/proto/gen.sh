#!/bin/sh
# Regenerates the Go code for task.proto. CI does not run this: the output is
# committed. Needs protoc (3.21 was used) and the pinned plugins:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
set -eu
cd "$(dirname "$0")/../.."
# Run from the module root so the descriptor registers as
# "mlpipeline/proto/task.proto", a path no other package in the binary uses.
PATH="$(go env GOPATH)/bin:$PATH" protoc -I . \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	mlpipeline/proto/task.proto
