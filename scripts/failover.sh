#!/bin/bash
# The failover harness (docs/contracts.md §15): ROUNDS (default 20) rounds of two daemons on
# one throwaway PostgreSQL database while reminders fall due every second, with a fault at a
# random moment: the active one killed (kill -9), stopped (SIGSTOP) or cut off
# (pg_terminate_backend), or the server itself stopped for a while (outage). Each round checks
# that every reminder fired exactly once across both; the end prints the takeover time p50 and
# max per fault. Beside a private journald. CI runs one round of each fault from scripts/test.sh
# (the PostgreSQL stage, Tests/e2e/test_failover.py).
#   usage: ROUNDS=20 scripts/failover.sh [--seconds S] [--seed N] [--faults kill9,sigstop,terminate,outage]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build -Xcxx -DNDEBUG --product accordd >/dev/null
exec ./scripts/with-journald.sh python3 Tests/e2e/failover.py --rounds "${ROUNDS:-20}" "$@"
