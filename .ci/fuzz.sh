#!/usr/bin/env bash
# Bounded fuzzing: every `func Fuzz*` target in the module, found afresh on
# each run (targets added later are picked up without editing this file),
# fuzzed for FUZZTIME each (default 20s). `go test ./...` already runs every
# target's seed corpus (testdata/fuzz/<target> plus its f.Add seeds); this
# searches beyond it. A failure leaves the crashing input in the package's
# testdata/fuzz/<target>/: commit it as a regression seed once fixed.
#
#   FUZZTIME=20s          time per target
#   FUZZMINIMIZETIME=5s   cap on minimizing each new input; Go's default
#                         (60s) spends a whole short budget minimizing one
#                         interesting YAML file instead of fuzzing
#   FUZZ_PKGS="./sim/..." restrict to some packages
#   FUZZ_GOTOOLCHAIN=go1.27.3
#                         the Go that fuzzes. Go 1.26's fuzz coordinator
#                         races its own -fuzztime deadline and fails a
#                         target with a bare "context deadline exceeded" and
#                         no crasher when a worker is busy as the time runs
#                         out (go.dev/issue/75804; seen here on FuzzTag under
#                         CI load); 1.27 filters that. The module stays on
#                         1.26: the go command fetches this toolchain from
#                         the module proxy (about 76 MB, once per machine).
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}
minimize=${FUZZMINIMIZETIME:-5s}
pkgs=${FUZZ_PKGS:-./...}
export GOTOOLCHAIN=${FUZZ_GOTOOLCHAIN:-go1.27.3}
echo "fuzz: $(go version)"

# Packages whose test files declare a fuzz target; `go test -list` then
# names the targets exactly (it compiles only these packages).
dirs=$(grep -rl --include='*_test.go' -E '^func Fuzz[A-Z0-9_]' $(go list -f '{{.Dir}}' $pkgs) 2>/dev/null | xargs -r -n1 dirname | sort -u)
if [ -z "$dirs" ]; then
  echo "fuzz: no fuzz targets found"
  exit 0
fi
failed=()
count=0
for dir in $dirs; do
  pkg=$(cd "$dir" && go list .)
  targets=$(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true)
  for t in $targets; do
    count=$((count + 1))
    echo "=== fuzz $pkg $t ($fuzztime)"
    if ! go test "$pkg" -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" 2>&1 | tail -n 25; then
      failed+=("$pkg $t")
    fi
  done
done
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of $count targets failed:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "fuzz: $count targets, $fuzztime each: no failures"
