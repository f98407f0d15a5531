#!/bin/bash
# Checks the shipped systemd units without a running systemd (PID 1 need not be systemd):
#   1. systemd-analyze verify on a staged root holding the units as `make install` renders
#      them, the host's unit files (for sockets.target & co.) and stand-ins for the
#      programs they run; with man(1) installed, also that the man pages the units'
#      Documentation= names exist (ours from man/): no output allowed;
#   2. systemd-analyze security --offline=true --threshold=10 on accordd.service, i.e. an
#      exposure of at most 1.0 (the threshold is on the 0-100 scale). The socket unit is not
#      scored: `security` rates service units only (it would rate any .socket file like an
#      empty service, 9.8), and the process the socket starts is accordd.service.
# systemd-analyze writes under /run/systemd, so everything runs in a private mount
# namespace with a tmpfs there: nothing is left on the host.
#   usage: scripts/lint-units.sh            (root, or anyone who may unshare)
set -euo pipefail
cd "$(dirname "$0")/.."
THRESHOLD=${THRESHOLD:-10}

if [ "${1:-}" != __inside ]; then
  command -v systemd-analyze >/dev/null || { echo "lint-units: systemd-analyze is missing (apt-get install systemd)" >&2; exit 1; }
  exec unshare --mount --propagation private "$0" __inside
fi
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
root=$(mktemp -d /tmp/accord-lint-units.XXXXXX)
trap 'rm -rf "$root"' EXIT

# A staged root: merged /usr, the host's units, ours rendered like `make install PREFIX=/usr`.
mkdir -p "$root/usr/lib/systemd" "$root/usr/bin" "$root/etc/systemd/system"
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
sed 's|@BINDIR@|/usr/bin|g' systemd/accordd.service >"$root/usr/lib/systemd/system/accordd.service"
cp systemd/accordd.socket "$root/usr/lib/systemd/system/"
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/accordd"
chmod 0755 "$root/usr/bin/accordd"
cp /usr/bin/kill "$root/usr/bin/kill"

mkdir -p "$root/man"
for page in man/*.[1-8]; do
  install -D -m 0644 "$page" "$root/man/man${page##*.}/$(basename "$page")"
done
man=no
command -v man >/dev/null && man=yes

rc=0
echo "== systemd-analyze verify --man=$man accordd.service accordd.socket"
out=$(MANPATH="$root/man:$(manpath 2>/dev/null)" systemd-analyze verify --man=$man --root="$root" \
        accordd.service accordd.socket 2>&1) || rc=1
if [ -n "$out" ]; then printf '%s\n' "$out"; rc=1; fi
[ $rc -eq 0 ] && echo "ok: no warnings"

echo "== systemd-analyze security --offline=true --threshold=$THRESHOLD accordd.service"
set +e
report=$(systemd-analyze security --offline=true --threshold="$THRESHOLD" --no-pager --root="$root" accordd.service 2>&1)
src=$?
set -e
printf '%s\n' "$report" | grep -E '✗|Overall' || true
if [ $src -ne 0 ]; then echo "FAIL: exposure above $(awk "BEGIN{print $THRESHOLD/10}") (or the unit did not load)"; rc=1; fi
exit $rc
