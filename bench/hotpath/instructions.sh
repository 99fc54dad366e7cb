#!/bin/sh
# instructions.sh BENCH [N1 N2]: instructions per iteration of one
# benchmark of this package, counted by valgrind's callgrind (repeatable on
# a loaded machine, unlike ns/op): the whole process is counted at
# -benchtime N1x and N2x (default 100 and 400), one goroutine
# (-test.cpu 1), and the difference is divided by N2-N1, so that set-up
# cancels out. Example: ./instructions.sh 'HTTP/stateless$'
# BIN=path uses a test binary built before (go test -c ./bench/hotpath/)
# instead of building this tree's.
set -eu
bench=$1 n1=${2:-100} n2=${3:-400}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$(dirname "$0")"
if [ -n "${BIN:-}" ]; then cp "$BIN" "$dir/hotpath.test"; else go test -c -o "$dir/hotpath.test" .; fi
count() {
	# Go's asynchronous preemption signals trip callgrind's signal handling.
	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$1" \
		"$dir/hotpath.test" -test.run xxx -test.bench "$bench" -test.benchtime "$1x" -test.cpu 1 >"$dir/log.$1" 2>&1 ||
		{ cat "$dir/log.$1" >&2; exit 1; }
	sed -n 's/^==[0-9]*== Collected : //p' "$dir/log.$1"
}
a=$(count "$n1")
b=$(count "$n2")
echo "$bench: $(( (b - a) / (n2 - n1) )) instructions/op ($a at ${n1}x, $b at ${n2}x)"
