#!/bin/bash
# The Swift test suite under AddressSanitizer and ThreadSanitizer (separate build folders).
#   usage: scripts/sanitizers.sh [address|thread]...      (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(address thread)
export LSAN_OPTIONS="suppressions=$PWD/Tests/sanitizers/lsan.supp"
export TSAN_OPTIONS="halt_on_error=1"
for kind in "${kinds[@]}"; do
  echo "== swift test --sanitize=$kind"
  # mktemp, not a fixed name: another user could have made /tmp/accord-sanitize-KIND.log a
  # symlink to a file of ours, and the redirection below would overwrite it.
  log=$(mktemp --tmpdir "accord-sanitize-$kind.XXXXXX")
  rc=0
  swift test -Xcxx -DNDEBUG --sanitize="$kind" --scratch-path ".build-$kind" >"$log" 2>&1 || rc=$?
  grep -E '✘|Test run with|SUMMARY: (Address|Thread|Leak)Sanitizer|WARNING: ThreadSanitizer' "$log" | head -20
  if [ $rc -ne 0 ]; then echo "FAIL: the tests under --sanitize=$kind (exit $rc; $log)"; exit 1; fi
  rm -f "$log"
  echo "PASS: the tests under --sanitize=$kind"
done
