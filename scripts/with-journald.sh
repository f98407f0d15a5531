#!/bin/bash
# Runs a command beside a real systemd-journald of its own, so that end-to-end tests write to
# and read from a journal that is theirs alone, and exits with the command's status:
#   usage: scripts/with-journald.sh COMMAND [ARGS...]          (root: it mounts file systems)
#   e.g.   scripts/with-journald.sh .venv/bin/pytest -q Tests/e2e
#          scripts/with-journald.sh bash                       (a shell with a private journal)
#
# Everything happens in a private mount namespace (unshare --mount --propagation private):
#   * tmpfs over /run/systemd/journal (journald's sockets), /run/log (the volatile journal) and
#     /var/log/journal when it exists, so journalctl sees no other journal and the host's
#     journal files are neither read nor written;
#   * a journald.conf of our own bind-mounted over /etc/systemd/journald.conf (Storage=volatile,
#     ReadKMsg=no so that kernel messages stay out, RateLimitIntervalSec=0 so that no entry is
#     ever dropped), and empty tmpfs over any journald.conf.d drop-in directory;
#   * the repository's systemd/accord.catalog (when present) compiled together with the
#     system's catalogs into a tmpfs /var/lib/systemd/catalog, so that `journalctl -x` explains
#     accord's MESSAGE_IDs; a catalog journalctl rejects is an error.
# Then /lib/systemd/systemd-journald starts; COMMAND runs once journald's sockets answer, with
# ACCORD_TEST_JOURNALD=1 in its environment; journald is stopped with SIGTERM at the end.
# Nothing is created or changed on the host but a scratch directory in /tmp while it runs (and
# the mount points /run/systemd/journal or /run/log if they were missing: /run is volatile).
# WITH_JOURNALD_VERBOSE=1 prints journald's own output at the end. Exit status: COMMAND's, or
# 125 when the journal could not be set up.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
me=with-journald
journald=/lib/systemd/systemd-journald
die() { printf '%s: %s\n' "$me" "$*" >&2; exit 125; }

if [ "${_ACCORD_WITH_JOURNALD_INSIDE:-}" != "$$" ]; then
  # --- outside: check, prepare mount points, enter a private mount namespace ----------------
  if [ $# -eq 0 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
    [ $# -eq 0 ] && exit 64 || exit 0
  fi
  [ "$(id -u)" -eq 0 ] || die "must run as root: it mounts tmpfs file systems in a private mount namespace"
  [ -x "$journald" ] || die "$journald is missing (apt-get install systemd, or scripts/bootstrap.sh)"
  for tool in unshare mount journalctl setsid; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install systemd util-linux)"
  done
  # Mount points must exist before they can be mounted over. Under /run (a tmpfs, empty at every
  # boot, where systemd makes the same directories) they are made when missing; nothing else is
  # ever created on the host: a new /var/log/journal would make the host's journald persistent.
  for dir in /run/systemd/journal /run/log; do
    if [ ! -d "$dir" ]; then
      mkdir -p "$dir"
      echo "$me: created the empty mount point $dir" >&2
    fi
  done
  # `exec` keeps the pid, so this marker tells the re-executed script that it is inside.
  export _ACCORD_WITH_JOURNALD_INSIDE=$$
  exec unshare --mount --propagation private -- "$0" "$@"
fi

# --- inside the private mount namespace: mounts made here vanish with it ---------------------
unset _ACCORD_WITH_JOURNALD_INSIDE
work=$(mktemp -d /tmp/accord-journald.XXXXXX)
journald_pid=
# shellcheck disable=SC2317 # run by the EXIT trap below, which shellcheck 0.9 does not follow
stop_journald() {
  local rc=0
  if [ -n "$journald_pid" ] && kill -0 "$journald_pid" 2>/dev/null; then
    kill -TERM "$journald_pid" 2>/dev/null || true
    for _ in $(seq 250); do kill -0 "$journald_pid" 2>/dev/null || break; sleep 0.02; done
    if kill -0 "$journald_pid" 2>/dev/null; then
      echo "$me: journald did not stop within 5 s of SIGTERM; killing it" >&2
      kill -KILL "$journald_pid" 2>/dev/null || true
    fi
    wait "$journald_pid" 2>/dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "$me: journald exited with status $rc; its output:" >&2
      cat "$work/journald.log" >&2
    fi
  fi
  if [ -n "${WITH_JOURNALD_VERBOSE:-}" ] && [ -s "$work/journald.log" ]; then
    echo "$me: journald's output:" >&2
    cat "$work/journald.log" >&2
  fi
  rm -rf "$work"
}
trap stop_journald EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The journal's places: empty, private, in memory.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run/systemd/journal
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run/log
if [ -d /var/log/journal ]; then
  mount -t tmpfs -o mode=2755,nosuid,nodev tmpfs /var/log/journal
fi

# journald's configuration: ours only. (No Audit= line: Audit=no would switch kernel auditing
# off for the whole machine.)
cat >"$work/journald.conf" <<'EOF'
# written by accord's scripts/with-journald.sh: a private, volatile journal for tests
[Journal]
Storage=volatile
ReadKMsg=no
RateLimitIntervalSec=0
RateLimitBurst=0
RuntimeMaxUse=1G
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
MaxLevelStore=debug
EOF
if [ -f /etc/systemd/journald.conf ]; then
  mount --bind "$work/journald.conf" /etc/systemd/journald.conf
elif [ -d /etc/systemd ]; then
  # no journald.conf on this machine: a private /etc/systemd that holds ours
  mkdir "$work/etc-systemd"
  cp "$work/journald.conf" "$work/etc-systemd/journald.conf"
  mount --bind "$work/etc-systemd" /etc/systemd
else
  die "neither /etc/systemd/journald.conf nor /etc/systemd exists (apt-get install systemd)"
fi
# Drop-ins would override it: hidden under empty tmpfs.
for dropins in /etc/systemd/journald.conf.d /run/systemd/journald.conf.d \
               /usr/local/lib/systemd/journald.conf.d /usr/lib/systemd/journald.conf.d; do
  if [ -d "$dropins" ]; then mount -t tmpfs -o mode=0755 tmpfs "$dropins"; fi
done

# journald needs a machine id; a fresh container may have an empty /etc/machine-id.
if [ -e /etc/machine-id ] && ! grep -q -E '^[0-9a-f]{32}$' /etc/machine-id; then
  tr -d '-' </proc/sys/kernel/random/uuid >"$work/machine-id"
  mount --bind "$work/machine-id" /etc/machine-id
fi

# The catalog: the system's entries plus accord's, compiled into a private database.
catalog=$repo/systemd/accord.catalog
if [ ! -f "$catalog" ]; then
  echo "$me: $catalog not found: journalctl -x will not explain accord's entries" >&2
elif [ ! -d /usr/lib/systemd/catalog ] || [ ! -d /var/lib/systemd/catalog ]; then
  echo "$me: /usr/lib/systemd/catalog or /var/lib/systemd/catalog is missing: accord's catalog is not staged" >&2
else
  mkdir "$work/catalog"
  cp -a /usr/lib/systemd/catalog/. "$work/catalog/"
  cp "$catalog" "$work/catalog/accord.catalog"
  mount --bind "$work/catalog" /usr/lib/systemd/catalog
  mount -t tmpfs -o mode=0755 tmpfs /var/lib/systemd/catalog
  # journalctl reports a malformed catalog file on stderr, not always in its exit status.
  rc=0
  out=$(journalctl --update-catalog 2>&1) || rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    case "$rc $out" in
      *accord.catalog*) die "journalctl --update-catalog rejected $catalog" ;;
      0\ *) ;;
      *) die "journalctl --update-catalog failed ($rc)" ;;
    esac
  fi
fi

# journald itself: in its own session, so that a Ctrl-C meant for COMMAND does not stop it
# first, and without any service-manager variables this script may have inherited.
env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
  setsid "$journald" </dev/null >"$work/journald.log" 2>&1 &
journald_pid=$!
# Ready when its three sockets are bound: native (sd_journal_send), stdout (systemd-cat) and
# the Varlink one that `journalctl --sync` uses.
for _ in $(seq 500); do
  [ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/stdout ] &&
    [ -S /run/systemd/journal/io.systemd.journal ] && break
  kill -0 "$journald_pid" 2>/dev/null || break
  sleep 0.02
done
if ! [ -S /run/systemd/journal/socket ] || ! kill -0 "$journald_pid" 2>/dev/null; then
  cat "$work/journald.log" >&2
  die "systemd-journald did not come up (its output is above)"
fi
journalctl --sync >/dev/null 2>&1 || true

export ACCORD_TEST_JOURNALD=1
rc=0
"$@" || rc=$?
exit $rc
