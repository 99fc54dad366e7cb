#!/bin/sh
# Installs Debian's prometheus server for e2e/prometheus_test.go, which
# scrapes a running atomcp with it (skipped without the binary unless CI=true).
set -eu
if command -v prometheus >/dev/null 2>&1; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus
