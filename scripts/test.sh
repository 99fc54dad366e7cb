#!/usr/bin/env bash
# The whole test suite: formatting, vet, and every test with the race
# detector. It installs what it needs itself (Go modules), so that it passes
# on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

echo "== go modules"
go mod download

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

./scripts/install-chromium.sh
echo "== go test -race"
go test -race -count=1 -timeout 20m ./...
