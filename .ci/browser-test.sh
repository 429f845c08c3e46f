#!/bin/sh
# The HTML reports' browser test: installs Debian's chromium if it is
# missing, then opens every report (samples, edge cases and the report a
# real `walletsim run --out` writes) in headless Chromium, takes a
# screenshot and fails on a blank page, a console error or any network
# fetch. WALLETSIM_BROWSER_TESTS=1 turns a missing Chromium into a
# failure. Screenshots land in $WALLETSIM_SCREENSHOT_DIR when set. Run
# from anywhere; .ci/run calls it.
set -eu
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
	echo "browser-test: installing chromium (apt-get)"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
export WALLETSIM_BROWSER_TESTS=1
exec go test -count=1 -run 'Browser' ./sim/report/html "$@"
