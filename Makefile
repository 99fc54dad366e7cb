# The README's test command is `make test`; .ci/run calls it and nothing else.
.PHONY: test build run fmt

test:
	./scripts/test.sh

build:
	go build -o bin/atomcp ./cmd/atomcp

run:
	go run ./cmd/atomcp serve

fmt:
	gofmt -w .
