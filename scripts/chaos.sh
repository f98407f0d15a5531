#!/bin/bash
# The full chaos test: ROUNDS (default 200) rounds of kill -9 against a busy daemon, beside a
# private journald. CI runs a shorter one from scripts/test.sh. STATE=postgresql (make chaos
# STATE=postgresql) keeps the state in a throwaway PostgreSQL server instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
./scripts/bootstrap.sh
swift build -Xcxx -DNDEBUG --product accordd >/dev/null
exec ./scripts/with-journald.sh python3 Tests/chaos/chaos.py --rounds "${ROUNDS:-200}" "$@"
