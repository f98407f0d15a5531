#!/bin/bash
# End-to-end test of accord under a real systemd, as root, on a machine whose PID 1 need not
# be systemd (issue 5, item 6):
#   * boots a container whose PID 1 is this machine's own systemd: systemd-nspawn on the
#     host's /usr (--volatile=yes: an empty tmpfs root, /usr read-only), a fixed machine id,
#     --register=no --keep-unit (no machined or host systemd needed), a private network, in a
#     cgroup and a mount namespace of its own; driven with `nsenter -t <guest PID 1> -a`;
#   * stages `make install PREFIX=/usr` and copies the units unchanged into the guest's /etc,
#     plus a drop-in that changes only ExecStart= to the bound build, and a second one with
#     WatchdogSec=3s; the sysusers snippet, tmpfiles snippet (if any), catalog and Config/;
#   * creates users alice (accord), bob (accord, accord-admin) and carol (neither), and a
#     portfolio whose date-time deadlines lie seconds ahead;
#   * checks socket activation, authorization, the journal fields of docs/contracts.md §6, the catalog,
#     a rejected reload, the watchdog, a clean stop, and re-activation without repeats.
# Prints one PASS:/FAIL: line per check and "N passed, N failed" last; exit status 1 when
# anything failed, 2 when it could not run. On failure the guest's journal is printed.
#   usage: scripts/e2e-systemd.sh [BINDIR]      (BINDIR holds accordd and accordctl;
#                                                default .build/debug)
#   env:   KEEP=1 leaves the work directory (not the guest) for inspection.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BINDIR=$(realpath "${1:-.build/debug}" 2>/dev/null || echo "${1:-.build/debug}")

say()  { printf '\n== %s\n' "$*"; }
die()  { echo "e2e-systemd: $*" >&2; exit 2; }
PASS=0; FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
equals() { [ "$1" = "$2" ] || { echo "    expected '$2', got '$1'"; return 1; }; }

[ "$(id -u)" -eq 0 ] || die "run as root (it boots a container)"
[ -x "$BINDIR/accordd" ] || die "no accordd in $BINDIR (build first: swift build)"
for tool in systemd-nspawn nsenter unshare systemd-id128 journalctl make python3; do
  command -v $tool >/dev/null || die "$tool is missing (systemd-nspawn: apt-get install systemd-container)"
done
HAVE_CTL=1; [ -x "$BINDIR/accordctl" ] || { HAVE_CTL=0; echo "note: no accordctl in $BINDIR: the client checks fail"; }

W=$(mktemp -d /tmp/accord-e2e-systemd.XXXXXX)
CG=accord-e2e-$$
NSPAWN_PID=; L=
cgroup_roots() {   # where to make our cgroup: cgroup2 only, or hybrid (cgroup2 + name=systemd)
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo /sys/fs/cgroup
  else
    [ -d /sys/fs/cgroup/unified ] && echo /sys/fs/cgroup/unified
    [ -d /sys/fs/cgroup/systemd ] && echo /sys/fs/cgroup/systemd
  fi
  return 0
}
G() { nsenter -t "$L" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
GR() { echo "/proc/$L/root$1"; }            # a path inside the live guest, seen from the host

print_journal() {
  [ -n "$L" ] && [ -d "/proc/$L" ] || return 0
  echo "--- guest journal, accordd units (journalctl -u accordd.socket -u accordd.service):"
  G journalctl -b --no-pager -o short-precise -u accordd.socket -u accordd.service | tail -80
  echo "--- guest journal, last 80 lines:"
  G journalctl -b --no-pager -o short-precise | tail -80
}

cleanup() {
  local r
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID"          # nspawn passes --kill-signal (SIGRTMIN+3: halt) to the guest
    for _ in $(seq 300); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$NSPAWN_PID" 2>/dev/null; then echo "guest did not halt in 30 s: SIGKILL"; kill -KILL "$NSPAWN_PID"; sleep 1; fi
  fi
  for r in $(cgroup_roots); do
    [ -d "$r/$CG" ] && { find "$r/$CG" -depth -type d -exec rmdir {} \; 2>/dev/null || echo "cgroup $r/$CG not empty"; }
  done
  if [ -n "${KEEP:-}" ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
say "stage: make install DESTDIR=… PREFIX=/usr BUILDDIR=$BINDIR"
if [ $HAVE_CTL -eq 0 ]; then   # install needs an accordctl for the completions: a stand-in
  mkdir -p "$W/bin"; cp "$BINDIR/accordd" "$W/bin/"; printf '#!/bin/sh\nexit 69\n' >"$W/bin/accordctl"
  chmod +x "$W/bin/accordctl"; STAGEBIN=$W/bin
else
  STAGEBIN=$BINDIR
fi
make -s install DESTDIR="$W/stage" PREFIX=/usr BUILDDIR="$STAGEBIN" >"$W/install.log" 2>&1 \
  || { cat "$W/install.log"; die "make install failed"; }
S=$W/stage
for f in usr/lib/systemd/system/accordd.service usr/lib/systemd/system/accordd.socket \
         usr/lib/sysusers.d/accord.conf usr/lib/systemd/catalog/accord.catalog etc/accord/accordd.toml; do
  [ -f "$S/$f" ] || die "make install did not produce $f"
done

# The journal catalog database the guest's journalctl -x reads: the host's catalogs (the
# guest runs the host's /usr) plus ours, compiled by journalctl itself.
mkdir -p "$W/catroot/usr/lib/systemd/catalog"
cp /usr/lib/systemd/catalog/*.catalog "$W/catroot/usr/lib/systemd/catalog/" 2>/dev/null || true
cp "$S/usr/lib/systemd/catalog/accord.catalog" "$W/catroot/usr/lib/systemd/catalog/"
journalctl --root="$W/catroot" --update-catalog || die "journalctl --update-catalog failed"

# ---------------------------------------------------------------------------------------------
say "boot: systemd-nspawn --volatile=yes on the host's /usr"
systemd-id128 new >"$W/machine-id"
for r in $(cgroup_roots); do mkdir -p "$r/$CG"; done
binds=(--bind-ro="$W/machine-id:/etc/machine-id" --bind-ro="$BINDIR:/opt/accord/bin")
[ -d /opt/swift ] && binds+=(--bind-ro=/opt/swift)       # a dynamically linked build needs it
t0=$(date +%s%N)
# nspawn's own seccomp allow-list (systemd 252) refuses Landlock with EPERM; the notify hook's
# sandbox needs it (the unit allows it too), so it is added with --system-call-filter.
# Own mount namespace with a tmpfs on /run/systemd (nspawn keeps state there; the host's /run
# stays clean), own cgroup; exec keeps the PID so that we can stop nspawn by it.
# shellcheck disable=SC2016 # $$ and $r are the inner bash's; only the cgroup list is spliced in
setsid unshare --mount --propagation private bash -c '
    mount -t tmpfs -o mode=0755 tmpfs /run/systemd
    for r in '"$(cgroup_roots | tr '\n' ' ')"'; do echo $$ >"$r/'"$CG"'/cgroup.procs"; done
    exec env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn "$@"' _ \
  --directory=/ --volatile=yes --boot --register=no --keep-unit --private-network \
  --machine=accord-e2e --console=read-only --kill-signal=SIGRTMIN+3 "${binds[@]}" \
  --system-call-filter="landlock_create_ruleset landlock_add_rule landlock_restrict_self" \
  systemd.mask=systemd-machine-id-commit.service \
  </dev/null >"$W/console.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 400); do                   # the guest's PID 1: nspawn's child, once it is systemd
  L=$(ps -o pid= --ppid "$NSPAWN_PID" 2>/dev/null | tr -d ' ' | head -1)
  [ -n "$L" ] && [ "$(cat "/proc/$L/comm" 2>/dev/null)" = systemd ] && break
  L=
  kill -0 "$NSPAWN_PID" 2>/dev/null || break
  sleep 0.05
done
[ -n "$L" ] || { cat "$W/console.log"; die "the guest did not boot"; }
for _ in $(seq 1200); do
  [ -S "/proc/$L/root/run/systemd/private" ] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$W/console.log"; die "the guest died while booting"; }
  sleep 0.05
done
state=$(timeout 120 nsenter -t "$L" -a systemctl is-system-running --wait 2>/dev/null)
echo "guest PID 1 is host PID $L; state '$state' after $(( ($(date +%s%N) - t0) / 1000000 )) ms; $(G systemctl --version | head -1)"
case $state in running|degraded) ;; *) cat "$W/console.log"; die "the guest is not up ($state)";; esac

# ---------------------------------------------------------------------------------------------
say "install into the guest"
install -D -m 0644 "$S/usr/lib/systemd/system/accordd.service" "$(GR /etc/systemd/system/accordd.service)"
install -D -m 0644 "$S/usr/lib/systemd/system/accordd.socket" "$(GR /etc/systemd/system/accordd.socket)"
install -D -m 0644 /dev/stdin "$(GR /etc/systemd/system/accordd.service.d/e2e-exec.conf)" <<'EOF'
# e2e: run the build bound at /opt/accord/bin instead of /usr/bin (the guest's /usr is read-only)
[Service]
ExecStart=
ExecStart=/opt/accord/bin/accordd run --config /etc/accord/accordd.toml
EOF
install -D -m 0644 /dev/stdin "$(GR /etc/systemd/system/accordd.service.d/e2e-test.conf)" <<'EOF'
# e2e: a short watchdog, so that a test of seconds shows that it is fed; and a low soft
# limit on descriptors, so that the test sees the daemon raise it under the system call filter
[Service]
WatchdogSec=3s
LimitNOFILE=1024:4096
EOF
install -D -m 0644 "$S/usr/lib/sysusers.d/accord.conf" "$(GR /etc/sysusers.d/accord.conf)"
if [ -f "$S/usr/lib/tmpfiles.d/accord.conf" ]; then
  install -D -m 0644 "$S/usr/lib/tmpfiles.d/accord.conf" "$(GR /etc/tmpfiles.d/accord.conf)"
fi
install -D -m 0644 "$W/catroot/var/lib/systemd/catalog/database" "$(GR /var/lib/systemd/catalog/database)"
mkdir -p "$(GR /etc/accord/portfolios)"
cp -r "$S/etc/accord/." "$(GR /etc/accord/)"
# A notify hook that reports, on its standard output (the service's journal stream), what it
# can do: issue 16, defect 7, under systemd, where the daemon is user accord and owns the state
# and runtime directories, so only Landlock keeps the hook out of them.
install -m 0755 /dev/stdin "$(GR /etc/accord/e2e-hook)" <<'EOF'
#!/bin/sh
can() { if "$@" 2>/dev/null; then echo yes; else echo no; fi; }
echo "e2e-hook $ACCORD_REMINDER state-write=$(can touch /var/lib/accord/hook-was-here)" \
  "db-write=$(can sh -c ': >> /var/lib/accord/state.sqlite')" \
  "run-write=$(can touch /run/accord/hook-was-here)" \
  "journal-read=$(can sh -c 'cat /run/log/journal/*/system.journal /var/log/journal/*/system.journal 2>/dev/null | head -c 1 | grep -q .')" \
  "pgid=$(($(cut -d')' -f2 /proc/$$/stat | cut -d' ' -f4) == $$))"
EOF
printf '\n[notify]\nexec = ["/etc/accord/e2e-hook"]\ntimeout = "PT5S"\n' >>"$(GR /etc/accord/accordd.toml)"
G systemd-sysusers /etc/sysusers.d/accord.conf
[ -f "$(GR /etc/tmpfiles.d/accord.conf)" ] && G systemd-tmpfiles --create /etc/tmpfiles.d/accord.conf
G systemd-sysusers --inline \
  'u alice 2001 "e2e reader" /' 'u bob 2002 "e2e admin" /' 'u carol 2003 "e2e outsider" /' \
  'm alice accord' 'm bob accord' 'm bob accord-admin'
G systemctl daemon-reload

# How to run a command as another user: runuser (PAM) if the guest's /etc lets it, else setpriv.
if [ -e "$(GR /etc/pam.d/runuser)" ] || [ -e "$(GR /etc/pam.d/other)" ]; then
  as() { local u=$1; shift; G runuser -u "$u" -- "$@"; }; echo "running clients with runuser"
else
  as() { local u=$1; shift; G setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
  echo "running clients with setpriv (runuser needs a PAM configuration; the volatile guest's /etc has none)"
fi
SOCK=/run/accord/io.accord.Tracker
CTL=/opt/accord/bin/accordctl
ctl() { local u=$1; shift; as "$u" "$CTL" --socket "$SOCK" "$@"; }

out=$(G systemd-analyze verify --man=no accordd.service accordd.socket 2>&1)
check "systemd-analyze verify in the booted guest: no output" equals "$out" ""
score=$(G systemd-analyze security --no-pager accordd.service 2>/dev/null | sed -n 's/.*Overall exposure level for accordd.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security in the booted guest (live, with the drop-ins): exposure ${score:-?} <= 1.0" \
  awk -v s="${score:-99}" 'BEGIN { exit !(s <= 1.0) }'
G systemctl enable --quiet accordd.service
check "systemctl enable accordd.service enables accordd.socket too (Also=)" \
  equals "$(G systemctl is-enabled accordd.service accordd.socket | paste -sd' ')" "enabled enabled"

# Portfolio: date-time deadlines seconds ahead. `soon` (UTC, with an offset) fires 10 s ahead
# and on the instant; `soon-local` has no offset and is read in America/Toronto.
T=$(( $(date +%s) + 30 ))
T_LOCAL=$(( T + 4 ))
PORTFOLIO=$(GR /etc/accord/portfolios/e2e.toml)
write_portfolio() {
  cat >"$PORTFOLIO" <<EOF
[dialogue]
id = "e2e"
title = "accord end-to-end test"
time-zone = "UTC"

[[objective]]
id = "soon"
title = "A deadline seconds ahead"
due = $(date -u -d "@$T" +%Y-%m-%dT%H:%M:%SZ)
reminders = ["PT10S", "P0D"]

[[objective]]
id = "soon-local"
title = "A local date-time deadline, read in the item's zone"
due = $(TZ=America/Toronto date -d "@$T_LOCAL" +%Y-%m-%dT%H:%M:%S)
time-zone = "America/Toronto"
reminders = ["P0D"]

[[objective]]
id = "record-me"
title = "An item to record events on"
due = 2099-01-01
EOF
}
write_portfolio
check "accordd check accepts the installed config and the test portfolio" \
  G /opt/accord/bin/accordd check --config /etc/accord/accordd.toml

# ---------------------------------------------------------------------------------------------
say "socket activation"
rc=0; G systemctl start accordd.socket || rc=$?
check "systemctl start accordd.socket" equals "$rc $(G systemctl is-active accordd.socket)" "0 active"
check "socket $SOCK is mode 660, owner root, group accord" \
  equals "$(G stat -c '%a %U %G %F' "$SOCK" 2>&1)" "660 root accord socket"
check "accordd.service is not running before the first client" \
  equals "$(G systemctl is-active accordd.service)" inactive
rc=0; out=$(ctl alice status 2>&1) || rc=$?; printf '%s\n' "$out" | sed 's/^/    /'
check "accordctl status as alice (group accord) exits 0" equals "$rc" 0
check "accordd.service became active by socket activation (TriggeredBy=accordd.socket)" \
  equals "$(G systemctl is-active accordd.service) $(G systemctl show -P TriggeredBy accordd.service)" "active accordd.socket"
check "Type=notify: STATUS= from sd_notify is shown by systemctl ($(G systemctl show -P StatusText accordd.service))" \
  test -n "$(G systemctl show -P StatusText accordd.service)"
rc=0; ctl alice --json status >"$W/status.json" 2>&1 || rc=$?
check "accordctl --json status prints a JSON object with the config file" \
  equals "$rc $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["configFile"])' "$W/status.json" 2>&1)" "0 /etc/accord/accordd.toml"
rc=0; ctl carol status >/dev/null 2>&1 || rc=$?
check "accordctl status as carol (not in accord) exits 77" equals "$rc" 77

say "authorization"
rc=0; ctl alice record record-me started --note "e2e: refused" >"$W/alice.out" 2>&1 || rc=$?
sed 's/^/    /' "$W/alice.out"
check "accordctl record record-me started as alice (accord only) exits 77" equals "$rc" 77
rc=0; ctl bob record record-me started --note "e2e: allowed" >"$W/bob.out" 2>&1 || rc=$?
sed 's/^/    /' "$W/bob.out"
check "accordctl record record-me started as bob (accord-admin) exits 0" equals "$rc" 0
journal_json() { G journalctl -b -u accordd.service -o json --no-pager "$@"; }
audit=$(journal_json MESSAGE_ID=eb00b45bd6bb476a92812f474dd38238 | python3 -c '
import json, sys
seen = set()
for line in sys.stdin:
    e = json.loads(line)
    seen.add((e.get("ACCORD_USER"), e.get("ACCORD_UID"), e.get("ACCORD_ACTION"), e.get("ACCORD_ALLOWED"), e.get("ACCORD_ITEM")))
refused = any(k[:4] == ("alice", "2001", "record", "0") and k[4] in ("record-me", "e2e/record-me") for k in seen)
print(refused, ("bob", "2002", "record", "1", "e2e/record-me") in seen)')
check "audit entries: alice refused, bob allowed (ACCORD_USER, ACCORD_UID, ACCORD_ACTION, ACCORD_ALLOWED)" \
  equals "$audit" "True True"

say "the sandbox"
PID=$(G systemctl show -P MainPID accordd.service)
status=$(G cat "/proc/$PID/status" 2>/dev/null)
uid=$(awk '/^Uid:/ {print $2}' <<<"$status"); groups=$(awk '/^Groups:/ {$1=""; print}' <<<"$status")
journal_gid=$(G getent group systemd-journal | cut -d: -f3); accord_uid=$(G id -u accord)
check "the daemon runs as user accord ($uid) with supplementary group systemd-journal ($groups)" \
  test "$uid" = "$accord_uid" -a -n "$journal_gid" -a -n "$(grep -w "$journal_gid" <<<"$groups")"
limits=$(G cat "/proc/$PID/limits" | awk '/^Max open files/ {print $4, $5}')
check "RLIMIT_NOFILE soft limit raised to the hard one under the system call filter (1024:4096 -> $limits)" \
  equals "$limits" "4096 4096"
check "state database is /var/lib/accord/state.sqlite, mode 600, owner accord (UMask=0077)" \
  equals "$(G stat -c '%a %U' /var/lib/accord/state.sqlite 2>&1)" "600 accord"
# The daemon reads the journal back after a crash: prove that its sandbox can, by running
# journalctl in a unit with the very same settings (the installed unit, another ExecStart=).
mkdir -p "$(GR /etc/systemd/system/accordd-journal-probe.service.d)"
cp "$(GR /etc/systemd/system/accordd.service)" "$(GR /etc/systemd/system/accordd-journal-probe.service)"
cat >"$(GR /etc/systemd/system/accordd-journal-probe.service.d/probe.conf)" <<'EOF'
[Service]
Type=oneshot
ExecStart=
ExecStart=/usr/bin/journalctl --no-pager -q -n 1 -o cat MESSAGE_ID=7542c2242e404e4f9c425c8a0fdab1da
ExecReload=
WatchdogSec=0
Restart=no
EOF
G systemctl daemon-reload
rc=0; G systemctl start accordd-journal-probe.service || rc=$?
probe=$(G journalctl -b -u accordd-journal-probe.service -o cat --no-pager | grep -c 'accordd started')
check "the unit's sandbox (user accord, same hardening) can read the journal" test "$rc" -eq 0 -a "$probe" -ge 1
G systemctl reset-failed accordd-journal-probe.service 2>/dev/null
rm -rf "$(GR /etc/systemd/system/accordd-journal-probe.service)" "$(GR /etc/systemd/system/accordd-journal-probe.service.d)"
G systemctl daemon-reload

say "reload with a broken portfolio"
echo 'not-a-key = 1' >>"$PORTFOLIO"
rc=0; G systemctl reload accordd.service || rc=$?
sleep 0.5
check "systemctl reload accordd with a broken portfolio: unit still active" \
  equals "$rc $(G systemctl is-active accordd.service)" "0 active"
n=$(journal_json MESSAGE_ID=9d8a5b038ac74d818278025ffacfe2ab | grep -c 'not-a-key')
check "a \"configuration rejected\" entry names the bad key" test "$n" -ge 1
rc=0; ctl alice reload >/dev/null 2>&1 || rc=$?
check "accordctl reload as alice (accord only) exits 77" equals "$rc" 77
if [ $HAVE_CTL -eq 1 ]; then
  rc=0; ctl bob reload >"$W/reload.out" 2>&1 || rc=$?; sed 's/^/    /' "$W/reload.out"
  check "accordctl reload as bob with the broken portfolio exits 78, unit still active" \
    equals "$rc $(G systemctl is-active accordd.service)" "78 active"
else
  fail "accordctl reload as bob exits 78 (no accordctl)"
fi
write_portfolio                            # repaired on disk; the daemon keeps its plan

say "reminders in the journal (waiting for $(date -u -d "@$T_LOCAL" +%T) UTC)"
while [ "$(date +%s)" -le $((T_LOCAL + 2)) ]; do sleep 1; done
for _ in $(seq 20); do
  [ "$(journal_json ACCORD_DIALOGUE=e2e | grep -c '"ACCORD_REMINDER"')" -ge 3 ] && break; sleep 0.5
done
journal_json ACCORD_DIALOGUE=e2e >"$W/reminders.json"
python3 - "$W/reminders.json" "$T" "$T_LOCAL" >"$W/reminders.txt" <<'EOF'
import datetime, json, sys
path, t, t_local = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
entries = [json.loads(l) for l in open(path) if l.strip()]
entries = [e for e in entries if "ACCORD_REMINDER" in e]
def epoch(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
ids = {"PT10S": "db24cfe239bd40298ba9e58943ddbf50", "P0D": "d5617cbd1e784413882d23c8eabc57bd"}
fields = ["MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "ACCORD_ITEM", "ACCORD_DIALOGUE",
          "ACCORD_DEADLINE", "ACCORD_DEADLINE_AT", "ACCORD_LEAD", "ACCORD_DAYS_LEFT", "ACCORD_REMINDER",
          "ACCORD_CATCHUP", "ACCORD_FIRE_AT", "_SYSTEMD_UNIT"]
expected = [("e2e/soon", "PT10S", t, t - 10), ("e2e/soon", "P0D", t, t), ("e2e/soon-local", "P0D", t_local, t_local)]
for item, lead, deadline, fire in expected:
    found = [e for e in entries if e.get("ACCORD_ITEM") == item and e.get("ACCORD_LEAD") == lead]
    name = f"{item} lead {lead}"
    if len(found) != 1:
        print(f"FAIL {name}: {len(found)} entries, expected exactly 1"); continue
    e = found[0]
    problems = [f"missing {f}" for f in fields if f not in e]
    want = {"SYSLOG_IDENTIFIER": "accordd", "_SYSTEMD_UNIT": "accordd.service", "ACCORD_DIALOGUE": "e2e",
            "ACCORD_DEADLINE": "due", "ACCORD_DAYS_LEFT": "0", "PRIORITY": "3", "ACCORD_CATCHUP": "0",
            "MESSAGE_ID": ids[lead]}
    problems += [f"{k}={e.get(k)!r}, expected {v!r}" for k, v in want.items() if k in e and e[k] != v]
    if "ACCORD_DEADLINE_AT" in e and epoch(e["ACCORD_DEADLINE_AT"]) != deadline:
        problems.append(f"ACCORD_DEADLINE_AT={e['ACCORD_DEADLINE_AT']}, expected epoch {deadline}")
    if "ACCORD_FIRE_AT" in e and epoch(e["ACCORD_FIRE_AT"]) != fire:
        problems.append(f"ACCORD_FIRE_AT={e['ACCORD_FIRE_AT']}, expected epoch {fire}")
    if not e.get("ACCORD_REMINDER", "").startswith(f"{item}:due:"):
        problems.append(f"ACCORD_REMINDER={e.get('ACCORD_REMINDER')!r}")
    if not e.get("MESSAGE", "").startswith(f"{item}: "):
        problems.append(f"MESSAGE={e.get('MESSAGE')!r}")
    logged = int(e["__REALTIME_TIMESTAMP"]) / 1e6
    if not fire - 0.001 <= logged <= fire + 3:
        problems.append(f"logged at {logged:.3f}, scheduled {fire}: {logged - fire:+.3f} s")
    print(("FAIL " if problems else "ok ") + f"{name}: " + ("; ".join(problems) if problems else
          f"{e['MESSAGE']!r}, {logged - fire:+.3f} s after its time, {len(fields)} fields"))
EOF
while read -r verdict rest; do
  if [ "$verdict" = ok ]; then pass "journal: $rest"; else fail "journal: $rest"; fi
done <"$W/reminders.txt"
[ -s "$W/reminders.txt" ] || fail "journal: no reminder entries could be read"
check "old plan kept running after the rejected reload (all three reminders fired)" \
  test "$(grep -c '^ok' "$W/reminders.txt")" -eq 3
xout=$(G journalctl -b -u accordd.service -x --no-pager ACCORD_ITEM=e2e/soon)
check "journalctl -x shows the catalog text (Defined-By: accord, Subject with the item)" \
  test -n "$(grep 'Defined-By: accord' <<<"$xout")" -a -n "$(grep 'Subject: e2e/soon: due deadline' <<<"$xout")"

rc=0; G systemctl reload accordd.service || rc=$?
sleep 0.5
check "systemctl reload with the portfolio repaired: a \"configuration reloaded\" entry, unit active" \
  test "$rc" -eq 0 -a "$(journal_json MESSAGE_ID=a24e9dbbfa61448d85f3a92f695d8a2c | wc -l)" -ge 1 \
       -a "$(G systemctl is-active accordd.service)" = active

say "the notify hook"
hook=$(G journalctl -b -u accordd.service -o cat --no-pager | grep '^e2e-hook ' | head -1)
echo "    ${hook:-(no hook output)}"
journal_readable=$(G sh -c 'cat /run/log/journal/*/system.journal /var/log/journal/*/system.journal 2>/dev/null | head -c 1 | grep -q . && echo yes')
check "the hook ran for a reminder, with a process group of its own" grep -q 'pgid=1' <<<"$hook"
check "the hook (user accord, like the daemon) cannot write in /var/lib/accord nor to the database" \
  grep -q 'state-write=no db-write=no' <<<"$hook"
check "the hook cannot write in /run/accord" grep -q 'run-write=no' <<<"$hook"
check "the hook cannot read the journal files (root can: ${journal_readable:-no}), although it keeps systemd-journal" \
  test "$journal_readable" = yes -a -n "$(grep 'journal-read=no' <<<"$hook")"
check "nothing the hook tried to create exists" \
  test ! -e "$(GR /var/lib/accord/hook-was-here)" -a ! -e "$(GR /run/accord/hook-was-here)"

say "watchdog"
wd=$(G systemctl show -P WatchdogTimestampMonotonic accordd.service)
up=$(( $(date +%s) - $(G systemctl show -P ActiveEnterTimestamp accordd.service | xargs -I{} date -d {} +%s) ))
check "watchdog fed: WatchdogTimestamp set, no restart, no watchdog timeout after ${up} s with WatchdogSec=3s" \
  test "${wd:-0}" -gt 0 -a "$(G systemctl show -P NRestarts accordd.service)" = 0 -a "$up" -gt 3 \
       -a -z "$(G journalctl -b -u accordd.service --no-pager -o cat | grep -i 'watchdog timeout')"

say "stop"
rc=0; G systemctl stop accordd.service 2>/dev/null || rc=$?  # (it warns that the socket can start it again)
check "systemctl stop accordd: Result=success, exit status 0" \
  equals "$rc $(G systemctl show -P Result accordd.service) $(G systemctl show -P ExecMainStatus accordd.service)" "0 success 0"
check "the \"stopping\" entry is in the journal" \
  test "$(journal_json MESSAGE_ID=e3a87e3eb6b945f08382de3e7ef49db5 | wc -l)" -ge 1
check "accordd.socket still listens after the service stopped" \
  equals "$(G systemctl is-active accordd.socket) $(G stat -c %F "$SOCK" 2>&1)" "active socket"
rc=0; ctl alice status >/dev/null 2>&1 || rc=$?
sleep 1
check "the next client starts the daemon again (exit $rc), and no reminder fires twice" \
  test "$rc" -eq 0 -a "$(G systemctl is-active accordd.service)" = active \
       -a "$(journal_json ACCORD_DIALOGUE=e2e | grep -c '"ACCORD_REMINDER"')" -eq 3
rc=0; G systemctl stop accordd.service 2>/dev/null || rc=$?
check "second stop: Result=success" equals "$rc $(G systemctl show -P Result accordd.service)" "0 success"

# The system call filter answers EPERM. (libdispatch's one "Failed to set thread priority for
# worker thread: ... errno=13" per start is EACCES: no CAP_SYS_NICE, as for any unprivileged
# Swift daemon; see accordd(8).)
check "no accord unit failed" \
  equals "$(G systemctl list-units --failed --plain --no-legend 'accord*' | wc -l)" 0
check "nothing the system call filter refused (EPERM) shows in the daemon's log" \
  test -z "$(G journalctl -b -u accordd.service -o cat --no-pager | grep -E 'errno=1([^0-9]|$)|Operation not permitted')"

[ "$FAIL" -gt 0 ] && print_journal
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
