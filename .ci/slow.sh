#!/usr/bin/env bash
# Slower suites the README documents, run by .ci/run after go test ./...
set -euo pipefail
cd "$(dirname "$0")/.."
# Every built-in scenario at --scale medium: each calibrated quantity
# within 5% of its target (issue 9).
WALLETSIM_SLOW=1 go test -count=1 -timeout 30m -run TestBuiltinsMediumCalibration ./sim/report/calibration
