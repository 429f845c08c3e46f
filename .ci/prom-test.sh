#!/bin/sh
# The dashboards' Prometheus test: installs Debian's prometheus if it is
# missing, then has it scrape a real `walletsim run` and evaluates every
# dashboard panel's query through Prometheus's HTTP API (each must return
# data). WALLETSIM_PROM_TESTS=1 turns a missing Prometheus into a failure
# rather than a skip. Run from anywhere; .ci/run calls it.
set -eu
cd "$(dirname "$0")/.."
if ! command -v prometheus >/dev/null 2>&1 && [ ! -x /usr/bin/prometheus ]; then
	echo "prom-test: installing prometheus (apt-get)"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	# The package starts a service on install where systemd runs; the test
	# runs its own instance on a free port and never talks to that one.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi
export WALLETSIM_PROM_TESTS=1
exec go test -count=1 ./dashboards ./sim/metrics ./compose "$@"
