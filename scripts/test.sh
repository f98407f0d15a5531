#!/bin/bash
# The whole test suite: unit tests, end-to-end tests against a real journald and the third-party
# Varlink client, and the booted-systemd test. Installs what it needs first (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
# toml++ (inside TOMLKit) asserts on some malformed TOML, such as a header "[*", instead of
# reporting a parse error: build its C++ without assertions so a bad portfolio is an error,
# never a crash (found by Fuzz/FuzzPortfolio; see Tests/e2e/test_hostile.py).
SWIFT_FLAGS=(-Xcxx -DNDEBUG)
stage() { printf '\n=== %s\n' "$*"; }

stage "set-up"
./scripts/bootstrap.sh

stage "build (debug)"
swift build "${SWIFT_FLAGS[@]}" --build-tests 2>&1 | grep -E 'error|warning: unre|Compiling|Build' | tail -3

stage "unit tests (swift test)"
swift test "${SWIFT_FLAGS[@]}" --skip-build 2>&1 | tee /tmp/accord-swift-test.log | grep -E '✘|Test run with' || true
grep -q 'Test run with .* passed' /tmp/accord-swift-test.log || { grep -B2 -A8 '✘' /tmp/accord-swift-test.log | head -80; exit 1; }

stage "end-to-end tests (real journald, real SQLite, PyPI varlink client)"
./scripts/with-journald.sh .venv/bin/pytest -q -p no:cacheprovider Tests/e2e

if [ -x scripts/e2e-systemd.sh ]; then
  stage "end-to-end test under real systemd (nspawn)"
  ./scripts/e2e-systemd.sh .build/debug
fi

stage "all tests passed"
