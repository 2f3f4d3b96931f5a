#!/usr/bin/env bash
# Regenerates the gRPC code of the plugin protocol under sdk/internal/pb.
#
# Needs protoc, from the Debian package protobuf-compiler, which the script
# installs with apt-get when it is missing. The Go generators are installed
# at pinned versions into .tools/bin of this repository, so no global tool
# path is touched. The generated code is committed: building the project
# never runs this script.
set -euo pipefail

cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
TOOLS="$PWD/.tools/bin"

if ! command -v protoc >/dev/null; then
	if ! command -v apt-get >/dev/null; then
		echo "proto.sh: protoc not found and apt-get is not available; install protoc (protobuf-compiler) with your system's package manager" >&2
		exit 1
	fi
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo=(sudo)
	fi
	echo "proto.sh: installing protobuf-compiler" >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends protobuf-compiler
fi

mkdir -p "$TOOLS"
if [[ ! -x "$TOOLS/protoc-gen-go" ]] || ! "$TOOLS/protoc-gen-go" --version | grep -q "$PROTOC_GEN_GO_VERSION"; then
	GOBIN="$TOOLS" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
fi
if [[ ! -x "$TOOLS/protoc-gen-go-grpc" ]] || ! "$TOOLS/protoc-gen-go-grpc" --version | grep -q "${PROTOC_GEN_GO_GRPC_VERSION#v}"; then
	GOBIN="$TOOLS" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi

PATH="$TOOLS:$PATH" protoc \
	--proto_path=sdk/internal/pb \
	--go_out=sdk/internal/pb --go_opt=paths=source_relative \
	--go-grpc_out=sdk/internal/pb --go-grpc_opt=paths=source_relative \
	sdk/internal/pb/*.proto
