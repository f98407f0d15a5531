#!/bin/bash
# Builds accord and runs the daemon in the foreground on the shipped Config/ (Ctrl-C stops it).
# State goes to the standard place (docs/contracts.md §2: $XDG_STATE_HOME/accord, or /var/lib/accord as
# root), the control socket to the user's runtime directory. Extra arguments go to `accordd run`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
# toml++ (Sources/CAccordTOML) asserts on some malformed TOML, such as a header "[*", instead of
# reporting a parse error: build its C++ without assertions so a bad portfolio is an error,
# never a crash (found by Fuzz/FuzzPortfolio; see Tests/e2e/test_hostile.py).
SWIFT_FLAGS=(-Xcxx -DNDEBUG)
echo "== building (debug)"
swift build "${SWIFT_FLAGS[@]}" --product accordd >/dev/null
swift build "${SWIFT_FLAGS[@]}" --product accordctl >/dev/null
echo "== accordd check"
.build/debug/accordd check --config Config/accordd.toml
echo "== accordd run (Ctrl-C to stop; try .build/debug/accordctl status in another terminal)"
exec .build/debug/accordd run --config Config/accordd.toml "$@"
