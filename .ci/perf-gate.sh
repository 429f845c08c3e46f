#!/usr/bin/env bash
# Gate a quickstart bench against the committed ratio baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
go build -o "$out/walletsim" ./cmd/walletsim
"$out/walletsim" bench --payments 500000 --out "$out"
"$out/walletsim" gate "$out/bench.json" --baseline loadtest/bench/baseline-bench.json --thresholds loadtest/bench/gate.yaml \
  --junit "$out/perf-junit.xml" --markdown "$out/perf.md"
