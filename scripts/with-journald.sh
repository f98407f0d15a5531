#!/bin/bash
# Runs a command beside a real systemd-journald of its own, in a private mount namespace:
# tmpfs over /run/systemd/journal, /run/log and /var/log/journal, so the host's journal is
# never touched, and accord's catalog compiled in so that `journalctl -x` explains entries.
#   usage: scripts/with-journald.sh COMMAND [ARGS...]     (root)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" != __inside ]; then
  [ $# -gt 0 ] || { sed -n '2,5p' "$0"; exit 2; }
  for d in /run/systemd/journal /run/log /var/log/journal /var/lib/systemd/catalog /usr/lib/systemd/catalog; do
    mkdir -p "$d"
  done
  exec unshare --mount --propagation private "$0" __inside "$@"
fi
shift
work=$(mktemp -d /tmp/accord-journal.XXXXXX)
for d in /run/systemd/journal /run/log /var/log/journal /var/lib/systemd/catalog; do
  mount -t tmpfs -o mode=0755 tmpfs "$d"
done
cp /etc/systemd/journald.conf "$work/journald.conf"
printf '\n[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitIntervalSec=0\nForwardToSyslog=no\nForwardToWall=no\n' >>"$work/journald.conf"
mount --bind "$work/journald.conf" /etc/systemd/journald.conf
mkdir -p "$work/catalog"
cp -a /usr/lib/systemd/catalog/. "$work/catalog/"
[ -f "$here/systemd/accord.catalog" ] && cp "$here/systemd/accord.catalog" "$work/catalog/"
mount --bind "$work/catalog" /usr/lib/systemd/catalog
journalctl --update-catalog

/lib/systemd/systemd-journald >"$work/journald.log" 2>&1 &
journald=$!
stop() { kill -TERM "$journald" 2>/dev/null; wait "$journald" 2>/dev/null || true; rm -rf "$work"; }
trap stop EXIT
for _ in $(seq 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
[ -S /run/systemd/journal/socket ] || { echo "with-journald: journald did not start" >&2; cat "$work/journald.log" >&2; exit 1; }
export ACCORD_TEST_JOURNALD=1
rc=0
"$@" || rc=$?
exit $rc
