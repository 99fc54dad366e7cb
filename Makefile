# The README's test command is `make test`; .ci/run calls it and nothing else.
.PHONY: test conformance build run fmt bench bench-smoke

test:
	./scripts/test.sh

# Only the MCP conformance stages (docs/conformance.md).
conformance:
	./scripts/test.sh install build 'conformance*' 'serve*'

build:
	go build -o bin/atomcp ./cmd/atomcp

run:
	go run ./cmd/atomcp serve

fmt:
	gofmt -w .

# The benchmark of docs/performance.md: atomcp against the bare go-sdk, the
# TypeScript SDK and a raw net/http handler, driven by wrk (installed with
# apt when missing, see bench/install-wrk.sh). Not part of `make test`: too noisy for CI, which
# runs `bench-smoke` (scripts/test.sh stage bench_smoke) instead.
# Options: make bench BENCH_FLAGS='-runs 5 -servers atomcp-stateful,gosdk-stateful-jwt'
bench:
	@bench/install-wrk.sh
	go run ./bench/driver $(BENCH_FLAGS)

bench-smoke:
	@bench/install-wrk.sh
	go run ./bench/driver -smoke $(BENCH_FLAGS)
