# HealthHub build. Every target works on a fresh machine that has Go; the
# tools a target needs beyond Go are installed by scripts/ on first use.

GO      ?= go
BIN     ?= bin
GOFLAGS ?=

.PHONY: build hub plugins run test bench proto clean

## build: the hub binary and every plugin into bin/
build: hub plugins

hub:
	$(GO) build $(GOFLAGS) -o $(BIN)/hub ./cmd/hub

# Every plugins/<kind>/<name>/ with a manifest.json is built into
# bin/plugins/<kind>-<name>/ beside a copy of its JSON files, and the
# manifest is stamped with the binary's SHA-256; the hub refuses a binary
# whose checksum differs. The manifest's command must be <kind>-<name>.
PLUGIN_SRCS := $(patsubst %/manifest.json,%,$(wildcard plugins/*/*/manifest.json))

plugins: hub
	@set -e; for src in $(PLUGIN_SRCS); do \
		name=$$(basename $$(dirname $$src))-$$(basename $$src); \
		out=$(BIN)/plugins/$$name; \
		mkdir -p $$out; \
		$(GO) build $(GOFLAGS) -o $$out/$$name ./$$src; \
		cp $$src/*.json $$out/; \
		$(BIN)/hub plugins stamp $$out; \
	done

## run: build, then start the hub on embedded defaults
run: build
	$(BIN)/hub serve

## test: go vet and the race-enabled test suite
test:
	$(GO) vet ./...
	$(GO) test -race ./...

## bench: every benchmark, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## proto: regenerate the gRPC code under sdk/internal
proto:
	scripts/proto.sh

clean:
	rm -rf $(BIN)
