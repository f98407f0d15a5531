#!/bin/bash
# Lints man pages: `mandoc -T lint -W style` and `man --warnings` must both print nothing.
#   usage: scripts/lint-man.sh [PAGE...]    (default: man/*.[1-8])
# Cross-references between the pages are resolved against the man/ folder, so they lint
# clean before they are installed; mandoc's remarks about the host's own mandoc.db
# ("outdated mandoc.db lacks ...") describe this machine, not the pages, and are dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- man/*.[1-8]
for tool in mandoc man; do
  command -v $tool >/dev/null || { echo "lint-man: $tool is missing (apt-get install mandoc man-db)" >&2; exit 1; }
done
failed=0
for page in "$@"; do
  dir=$(dirname "$page") name=$(basename "$page")
  lint=$(cd "$dir" || exit 2; mandoc -T lint -W style "$name" 2>&1 | grep -v 'outdated mandoc.db' || true)
  warnings=$(man --warnings -l "$page" 2>&1 >/dev/null || true)
  if [ -z "$lint$warnings" ]; then
    echo "ok: $page"
  else
    echo "FAIL: $page"
    [ -n "$lint" ] && printf '%s\n' "$lint"
    [ -n "$warnings" ] && printf '%s\n' "$warnings"
    failed=1
  fi
done
exit $failed
