# The README's test command is `make test`; .ci/run calls it and nothing else.
.PHONY: test conformance build run fmt

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
