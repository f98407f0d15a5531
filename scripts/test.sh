#!/bin/bash
# accord's one test command (the README's; also `make test` and .ci/run). As root, from any
# directory, on a Debian 12 machine with Swift in PATH or /opt/swift/usr/bin:
#   1. set-up              scripts/bootstrap.sh (installs what is missing, and says so)
#   2. build               swift build --build-tests (debug)
#   3. unit tests          swift test --skip-build
#   4. end-to-end tests    scripts/with-journald.sh .venv/bin/pytest -q Tests/e2e
#                          (a real journald of their own, the real binaries, the PyPI Varlink client)
#   5. under systemd       scripts/e2e-systemd.sh .build/debug (if it is there and executable)
#   6. Debian package      scripts/e2e-deb.sh: make deb (lintian --fail-on error,warning), then
#                          install, upgrade and purge in a booted Debian 12 container
#   7. lint                make lint: swift-format lint (.swift-format), scripts/lint-units.sh
#                          (systemd-analyze verify, security --threshold=10), scripts/lint-man.sh
#                          (mandoc -T lint, man --warnings) and shellcheck on scripts/*.sh, .ci/run
#   8. fuzzing             scripts/fuzz.sh: each libFuzzer harness for FUZZ_SECONDS (60)
#   9. chaos               Tests/chaos/chaos.py: CHAOS_ROUNDS (20) rounds of kill -9
#  10. sanitizers          scripts/sanitizers.sh: swift test under ASan and TSan
#  11. on PostgreSQL       the daemon suite again (test_daemon.py, test_control.py) with
#                          STATE=postgresql: the state in a throwaway PostgreSQL server
#                          (scripts/postgres-scratch.sh; about 95 s on 2 cores), and two daemons
#                          on one database (test_failover.py: kill -9, SIGSTOP, a cut session,
#                          a server outage, FAILOVER_SECONDS (12) of reminders each; about
#                          95 s). The unit tests
#                          (stage 3) run the store tests against SQLite and, as stage 1 installs
#                          Debian's postgresql package, against a server they start themselves.
# It stops at the first stage that fails, names the stage it is in, and ends with a summary.
# Each stage's whole output is kept in .build/test-logs/STAGE.log; the build and the unit tests
# print only their verdicts (and, on failure, what failed), the others print everything.
#   usage: scripts/test.sh [PYTEST ARGS...]     (arguments go to stage 4, e.g. -k watchdog)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2
command -v swift >/dev/null || PATH=/opt/swift/usr/bin:$PATH
export PATH
logs=$repo/.build/test-logs
# toml++ (Sources/CAccordTOML) asserts on some malformed TOML, such as a header "[*", instead of
# reporting a parse error: its C++ is built without assertions, as every build of the project
# is (Makefile SWIFTFLAGS), so that a bad portfolio is an error, never a crash.
SWIFT_FLAGS=(-Xcxx -DNDEBUG)
mkdir -p "$logs"
# swift-format lint is part of `make lint`: CI fails on any finding (`make format` fixes most).
LINT_SWIFT_FORMAT_IN_CI=yes

names=("set-up" "build (debug)" "unit tests" "end-to-end tests" "under systemd" "Debian package"
       "lint" "fuzzing" "chaos" "sanitizers" "on PostgreSQL")
results=()   # by stage index, for each stage reached: "ok 12.3", "FAILED 4.5" or "skipped 0.0"
started_all=$(date +%s.%N)

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

summary() {
  local i status seconds
  printf '\n=== summary\n'
  for i in "${!names[@]}"; do
    if [ -n "${results[$i]:-}" ]; then
      read -r status seconds <<<"${results[$i]}"
      printf '  %-8s %-20s %7s s\n' "$status" "${names[$i]}" "$seconds"
    else
      printf '  %-8s %-20s\n' "-" "${names[$i]}"
    fi
  done
  printf '  total %s s; logs in %s\n' "$(elapsed "$started_all")" "${logs#"$repo"/}"
}

# The "[N/11]" of stage INDEX (0-based), for run_stage and skip_stage alike.
stage_number() { printf '%d/%d' $(($1 + 1)) ${#names[@]}; }

# skip_stage INDEX REASON: a stage that does not run here; the summary shows it as skipped.
skip_stage() {
  printf '\n=== [%s] %s: skipped (%s)\n' "$(stage_number "$1")" "${names[$1]}" "$2"
  results[$1]="skipped 0.0"
}

# run_stage INDEX LOGNAME FILTER COMMAND...: FILTER is `all` (print everything) or the name of a
# function that reads the output and prints the part worth seeing.
run_stage() {
  local index=$1 log=$logs/$2.log filter=$3 begun rc
  shift 3
  printf '\n=== [%s] %s: %s\n' "$(stage_number "$index")" "${names[$index]}" "$*"
  begun=$(date +%s.%N)
  if [ "$filter" = all ]; then
    "$@" 2>&1 | tee "$log"
  else
    "$@" 2>&1 | tee "$log" | "$filter"
  fi
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then
    results[index]="ok $(elapsed "$begun")"
    return 0
  fi
  results[index]="FAILED $(elapsed "$begun")"
  printf '\n=== FAILED: %s (exit status %d); whole output: %s\n' "${names[$index]}" "$rc" "${log#"$repo"/}"
  [ "$filter" = all ] || explain_"$filter" "$log"
  summary
  exit "$rc"
}

# The build: errors and warnings of our own code as they come, then the verdict line.
build_filter() {
  grep --line-buffered -E '(error|warning): |^error|^Build complete|^\[[0-9]+/[0-9]+\] Linking' |
    grep --line-buffered -v -E '/\.build/checkouts/' || true
}
explain_build_filter() {
  echo "--- the end of the build output:"
  grep -v -E '^\[[0-9]+/[0-9]+\] ' "$1" | tail -60
}

# The unit tests (XCTest and swift-testing): failures and the verdict lines.
test_filter() {
  grep --line-buffered -E "✘|error: |Test Suite 'All tests' (passed|failed)|Executed [0-9]+ tests?|Test run with [0-9]+ tests?.*(passed|failed)" || true
}
explain_test_filter() {
  if grep -q -E "✘|error: |(failed|error) \(" "$1"; then
    echo "--- failures in context:"
    grep -B 3 -A 10 -E "✘|error: |(failed|error) \(" "$1" | head -200
  else
    echo "--- the end of the output:"
    tail -30 "$1"
  fi
}

run_stage 0 setup all ./scripts/bootstrap.sh
run_stage 1 build build_filter swift build "${SWIFT_FLAGS[@]}" --build-tests
run_stage 2 unit-tests test_filter swift test "${SWIFT_FLAGS[@]}" --skip-build
run_stage 3 e2e all ./scripts/with-journald.sh .venv/bin/pytest -q -p no:cacheprovider Tests/e2e "$@"
if [ -x scripts/e2e-systemd.sh ]; then
  run_stage 4 e2e-systemd all ./scripts/e2e-systemd.sh .build/debug
else
  skip_stage 4 "scripts/e2e-systemd.sh is not there"
fi
run_stage 5 e2e-deb all ./scripts/e2e-deb.sh
run_stage 6 lint all make --no-print-directory lint LINT_SWIFT_FORMAT="$LINT_SWIFT_FORMAT_IN_CI"
run_stage 7 fuzz all env FUZZ_SECONDS="${FUZZ_SECONDS:-60}" ./scripts/fuzz.sh
run_stage 8 chaos all ./scripts/with-journald.sh python3 Tests/chaos/chaos.py --rounds "${CHAOS_ROUNDS:-20}"
run_stage 9 sanitizers all ./scripts/sanitizers.sh
run_stage 10 e2e-postgresql all env STATE=postgresql FAILOVER_SECONDS="${FAILOVER_SECONDS:-12}" \
  ./scripts/with-journald.sh .venv/bin/pytest -q -p no:cacheprovider \
  Tests/e2e/test_daemon.py Tests/e2e/test_control.py Tests/e2e/test_failover.py
summary
printf 'all tests passed\n'
