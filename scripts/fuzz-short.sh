#!/usr/bin/env bash
# fuzz-short.sh runs each fuzz test of the security-relevant decoders for a
# few seconds (FUZZTIME, default 5s): JSON-RPC bodies, tool arguments,
# .env files, redirect URIs, client metadata documents and forwarded
# client addresses. The checked-in seeds (f.Add and testdata/fuzz) also run
# in every plain `go test`; this adds a short search for new inputs, as CI
# can afford. A failure leaves the input under the package's
# testdata/fuzz/<FuzzName>/ to check in with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"
targets=(
	"./internal/auth FuzzReadToolCalls"
	"./internal/atoms/tools FuzzToolArguments"
	"./internal/atoms/tools FuzzCheckLengths"
	"./internal/config FuzzParseDotenv"
	"./internal/config FuzzDotenvLinesAndSecrets"
	"./internal/authserver FuzzRedirectMatches"
	"./internal/authserver FuzzCIMDDocument"
	"./internal/netaddr FuzzClientAddr"
	"./internal/atoms FuzzParseRequirements"
)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "fuzz $name ($pkg, $FUZZTIME)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"
done
