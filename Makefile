# The README's test command is `make test`; .ci/run calls it and nothing else.
.PHONY: test check fmt-check conformance build run fmt bench bench-smoke soak

test:
	./scripts/test.sh

# The fast loop: gofmt, vet and every Go test, offline and without root.
# CI= because the PostgreSQL and Chromium tests fail instead of skipping
# when CI is set and their server or browser is missing; here they skip.
# -short skips the e2e package, which builds atomcp with -race and starts
# it dozens of times (make test runs it).
check: fmt-check
	go vet ./...
	CI= go test -short ./...

# Lists the Go files gofmt would change and fails if there are any.
fmt-check:
	@files=$$(find . \( -name .git -o -name node_modules \) -prune -o -name '*.go' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$files" ]; then echo "these files need gofmt -w:"; echo "$$files"; exit 1; fi

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
	# The cost of metrics and tracing (docs/performance.md).
	go test -run xxx -bench Telemetry -count 4 ./bench/hotpath/

bench-smoke:
	@bench/install-wrk.sh
	go run ./bench/driver -smoke $(BENCH_FLAGS)

# The soak run of docs/performance.md (bench/soak): 10,000 sessions and
# 1,000,000 tool calls on 3 replicas on a throwaway PostgreSQL database
# (127.0.0.1:5432 or ATOMCP_TEST_POSTGRES_URL), then as many on one replica
# on SQLite; fails on any error, memory growth or goroutine growth. Not part
# of `make test`, which runs the short variant (stage soak_short).
# Options: make soak SOAK_FLAGS='-backends sqlite -workers 16'
soak:
	go run ./bench/soak $(SOAK_FLAGS)
