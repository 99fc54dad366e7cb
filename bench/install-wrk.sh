#!/usr/bin/env bash
# Installs Debian's wrk, the load generator of the benchmark (bench/README.md).
# Idempotent: does nothing when wrk is already on PATH. Exits non-zero when
# wrk is missing and cannot be installed (not root, no apt).
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-wrk: wrk is missing; install it (Debian/Ubuntu: sudo apt-get install -y wrk)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk >/dev/null
command -v wrk
