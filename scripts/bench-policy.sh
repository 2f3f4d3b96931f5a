#!/usr/bin/env bash
# Policy benchmarks: the embedded engine against the same policies behind
# `opa run --server` on 127.0.0.1. Builds opa from the Go module proxy
# into .tools/bin on first use. Extra arguments go to `go test`, such as
# -count 10.
set -euo pipefail
cd "$(dirname "$0")/.."

OPA_VERSION=v1.22.4
TOOLS="$PWD/.tools/bin"
OPA="$TOOLS/opa"

if ! "$OPA" version 2>/dev/null | grep -q "^Version: ${OPA_VERSION#v}$"; then
	echo "building opa $OPA_VERSION into $TOOLS" >&2
	mkdir -p "$TOOLS"
	GOBIN="$TOOLS" go install "github.com/open-policy-agent/opa@$OPA_VERSION"
fi

HUB_OPA_BIN="$OPA" go test ./core/policy/ -run '^$' \
	-bench 'BenchmarkDecide|BenchmarkSidecar|BenchmarkInputConversion' \
	-benchmem -count 5 "$@"
