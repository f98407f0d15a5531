#!/bin/bash
# shellcheck disable=SC2016 # ${Conffiles} and ${Version} are dpkg-query's formats, not the shell's
# End-to-end test of the Debian package (issue 17), as root: what a Debian administrator does.
#   * builds accord_V_amd64.deb with scripts/build-deb.sh (lintian --fail-on error,warning
#     included), and a second one, V+e2e1, from the same build tree with a bumped
#     debian/changelog and accordVersion (only Version.swift recompiles);
#   * a fresh Debian 12 root: debootstrap --variant=minbase bookworm with systemd, cached as
#     .build/e2e-deb/bookworm.tar (measured: 33 s to 3.5 min to make,
#     depending on the mirror; 1 s to unpack), unpacked anew
#     each run and booted with systemd-nspawn --boot as PID 1 (no network: the install must
#     need nothing from a mirror);
#   * apt-get install ./accord_V_amd64.deb: socket active, status as a member of accord,
#     record as a member of accord-admin, journalctl -x shows the catalog; an edited
#     accordd.toml and the state database survive the upgrade to V+e2e1, which restarts the
#     service; apt-get purge leaves no unit, socket, state or file behind (dpkg -L, and a
#     list of every file in the guest before install and after purge).
# Prints one PASS:/FAIL: line per check and "N passed, N failed" last; exit status 1 when
# anything failed, 2 when it could not run.
#   usage: scripts/e2e-deb.sh          env: KEEP=1 keeps the work directory
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$(pwd)

say()  { printf '\n== %s\n' "$*"; }
die()  { echo "e2e-deb: $*" >&2; exit 2; }
PASS=0; FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
equals() { [ "$1" = "$2" ] || { echo "    expected '$2', got '$1'"; return 1; }; }

[ "$(id -u)" -eq 0 ] || die "run as root (it boots a container)"
for tool in systemd-nspawn nsenter unshare debootstrap tar; do
  command -v $tool >/dev/null || die "$tool is missing (run scripts/bootstrap.sh)"
done
t_all=$(date +%s)
W=$(mktemp -d /tmp/accord-e2e-deb.XXXXXX)
CG=accord-e2e-deb-$$
NSPAWN_PID=; L=
cgroup_roots() {   # as in e2e-systemd.sh: cgroup2 only, or hybrid
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo /sys/fs/cgroup
  else
    [ -d /sys/fs/cgroup/unified ] && echo /sys/fs/cgroup/unified
    [ -d /sys/fs/cgroup/systemd ] && echo /sys/fs/cgroup/systemd
  fi
  return 0
}
G() { nsenter -t "$L" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
GR() { echo "/proc/$L/root$1"; }
cleanup() {
  local r
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    kill -TERM "$NSPAWN_PID"
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
V=$(dpkg-parsechangelog -l debian/changelog -S Version)
V2=$V+e2e1
say "build: accord_${V}_amd64.deb and accord_${V2}_amd64.deb (scripts/build-deb.sh, lintian included)"
t=$(date +%s)
./scripts/build-deb.sh --out "$W" || { fail "make deb: build or lintian failed"; echo "$PASS passed, $FAIL failed"; exit 1; }
pass "accord_${V}_amd64.deb built, lintian --fail-on error,warning clean ($(( $(date +%s) - t )) s)"
t=$(date +%s)
./scripts/build-deb.sh --out "$W" --version "$V2" || die "the bumped package $V2 did not build"
echo "second package built in $(( $(date +%s) - t )) s"
# The first build tree holds V again on the next run (Version.swift goes back, one relink).
DEB1=$W/accord_${V}_amd64.deb; DEB2=$W/accord_${V2}_amd64.deb
dpkg-deb -I "$DEB1" | sed -n 's/^ \(Version\|Depends\|Installed-Size\):/    \1:/p'
echo "    size: $(stat -c %s "$DEB1") bytes"

# ---------------------------------------------------------------------------------------------
cache=$repo/.build/e2e-deb/bookworm.tar
say "a fresh Debian 12 root (cache: ${cache#"$repo"/})"
if [ ! -f "$cache" ]; then
  t=$(date +%s); mkdir -p "$(dirname "$cache")"
  rm -rf "$cache.root"
  # minbase + systemd to boot; libsqlite3-0 and tzdata, the package's dependencies beside
  # libc and libsystemd0, so that apt-get install needs no mirror inside the guest.
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libsqlite3-0,tzdata \
    bookworm "$cache.root" http://deb.debian.org/debian >"$W/debootstrap.log" 2>&1 ||
    { tail -30 "$W/debootstrap.log"; die "debootstrap failed"; }
  rm -rf "$cache.root/var/cache/apt/archives/"*.deb
  tar -C "$cache.root" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache" && rm -rf "$cache.root"
  echo "debootstrap and tarball: $(( $(date +%s) - t )) s"
fi
R=$W/root; mkdir "$R"
t=$(date +%s); tar -C "$R" -xf "$cache" || die "cannot unpack $cache"
echo "unpacked in $(( $(date +%s) - t )) s ($(du -sm "$R" | cut -f1) MB)"
: >"$R/etc/machine-id"
cp "$DEB1" "$DEB2" "$R/root/"

say "boot: systemd-nspawn --boot on the Debian root"
for r in $(cgroup_roots); do mkdir -p "$r/$CG"; done
t0=$(date +%s%N)
# shellcheck disable=SC2016 # $$ and $r are the inner bash's; only the cgroup list is spliced in
setsid unshare --mount --propagation private bash -c '
    mount -t tmpfs -o mode=0755 tmpfs /run/systemd
    for r in '"$(cgroup_roots | tr '\n' ' ')"'; do echo $$ >"$r/'"$CG"'/cgroup.procs"; done
    exec env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn "$@"' _ \
  --directory="$R" --boot --register=no --keep-unit --private-network \
  --machine=accord-e2e-deb --console=read-only --kill-signal=SIGRTMIN+3 \
  </dev/null >"$W/console.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 400); do
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
echo "guest state '$state' after $(( ($(date +%s%N) - t0) / 1000000 )) ms; $(G systemctl --version | head -1)"
case $state in running|degraded) ;; *) cat "$W/console.log"; die "the guest is not up ($state)";; esac

# Every path in the guest but the ones that change on their own (journal, apt's and dpkg's
# logs and caches, systemd's timestamps and random seed, /proc /sys /dev /tmp; and
# /run/agetty.reload, which the guest's console getty makes on its own, seen after boot with
# or without the package).
file_list() {
  G find / /run -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /var/tmp \
      -o -path /var/log -o -path /var/cache -o -path /var/lib/apt -o -path /run/systemd \
      -o -path /run/user -o -path /run/log -o -path /var/lib/systemd/timers \
      -o -path /var/lib/systemd/random-seed -o -path /root/.cache \) -prune -o -print |
    grep -v -E '^(/var/lib/dpkg/(.*-old|triggers/Lock|lock.*)|/run/agetty\.reload)$' | sort -u
}
# The test's own users exist before the first list (useradd writes /etc/subuid- and the
# like, which are not the package's); they join the package's groups after the install.
G useradd -M alice; G useradd -M bob; G useradd -M carol
file_list >"$W/files-before"

# ---------------------------------------------------------------------------------------------
say "apt-get install ./accord_${V}_amd64.deb"
rc=0; G sh -c "cd /root && apt-get install -y ./accord_${V}_amd64.deb" </dev/null >"$W/install.log" 2>&1 || rc=$?
sed 's/^/    /' "$W/install.log" | tail -15
check "apt-get install ./accord_${V}_amd64.deb exits 0, offline" equals "$rc" 0
check "accordd.socket is enabled and active" \
  equals "$(G systemctl is-enabled accordd.socket) $(G systemctl is-active accordd.socket)" "enabled active"
check "socket /run/accord/io.accord.Tracker: mode 660, group accord" \
  equals "$(G stat -c '%a %G %F' /run/accord/io.accord.Tracker 2>&1)" "660 accord socket"
check "the conffiles are /etc/accord/accordd.toml and the shipped portfolio(s)" \
  test -n "$(G dpkg-query -W -f='${Conffiles}\n' accord | grep ' /etc/accord/accordd.toml ')" \
       -a -n "$(G dpkg-query -W -f='${Conffiles}\n' accord | grep ' /etc/accord/portfolios/canada-china-2016.toml ')"
G usermod -a -G accord alice; G usermod -a -G accord,accord-admin bob
as() { local u=$1; shift; G runuser -u "$u" -- "$@"; }
rc=0; out=$(as alice accordctl status 2>&1) || rc=$?; printf '%s\n' "$out" | sed 's/^/    /' | head -8
check "accordctl status as alice (group accord) exits 0" equals "$rc" 0
rc=0; as carol accordctl status >/dev/null 2>&1 || rc=$?
check "accordctl status as carol (no group) exits 77" equals "$rc" 77
rc=0; as alice accordctl record cbsa-beea-pilot-mou in-force --note "e2e-deb alice" >/dev/null 2>&1 || rc=$?
check "accordctl record as alice (accord only) exits 77" equals "$rc" 77
rc=0; out=$(as bob accordctl record cbsa-beea-pilot-mou in-force --note "e2e-deb: recorded before the upgrade" 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "accordctl record as bob (accord-admin) exits 0" equals "$rc" 0
xout=$(G journalctl -b -x --no-pager -u accordd.service)
check "journalctl -x shows the catalog text (Defined-By: accord, the \"accordd started\" explanation)" \
  test -n "$(grep 'Defined-By: accord' <<<"$xout")" -a -n "$(grep 'The accord daemon loaded its configuration' <<<"$xout")"
check "the state database /var/lib/accord/state.sqlite exists, owned by accord" \
  equals "$(G stat -c %U /var/lib/accord/state.sqlite 2>&1)" accord

# ---------------------------------------------------------------------------------------------
say "upgrade to $V2 with an edited accordd.toml"
echo '# e2e-deb: edited by the administrator' >>"$(GR /etc/accord/accordd.toml)"
edited=$(sha256sum <"$(GR /etc/accord/accordd.toml)")
inv1=$(G systemctl show -P InvocationID accordd.service); pid1=$(G systemctl show -P MainPID accordd.service)
check "accordd.service is running before the upgrade (MainPID $pid1)" test "${pid1:-0}" -gt 0
rc=0; G sh -c "cd /root && apt-get install -y ./accord_${V2}_amd64.deb" </dev/null >"$W/upgrade.log" 2>&1 || rc=$?
sed 's/^/    /' "$W/upgrade.log" | tail -8
check "apt-get install ./accord_${V2}_amd64.deb exits 0, no conffile prompt (stdin is /dev/null)" equals "$rc" 0
check "dpkg says $V2 is installed" equals "$(G dpkg-query -W -f='${Version}' accord)" "$V2"
check "the edited accordd.toml is kept" equals "$(sha256sum <"$(GR /etc/accord/accordd.toml)")" "$edited"
inv2=$(G systemctl show -P InvocationID accordd.service); pid2=$(G systemctl show -P MainPID accordd.service)
check "accordd.service was restarted by the upgrade (new invocation, MainPID $pid1 -> $pid2), active" \
  test -n "$inv2" -a "$inv1" != "$inv2" -a "$(G systemctl is-active accordd.service)" = active
check "the running daemon is $V2 (accordctl status)" test -n "$(as alice accordctl status 2>&1 | grep -F "$V2")"
check "the state database kept the event recorded before the upgrade (accordctl history)" \
  test -n "$(as alice accordctl history cbsa-beea-pilot-mou 2>&1 | grep -F 'recorded before the upgrade')"

# ---------------------------------------------------------------------------------------------
say "remove, then purge"
rc=0; G apt-get remove -y accord </dev/null >"$W/remove.log" 2>&1 || rc=$?
check "apt-get remove exits 0; the state stays (/var/lib/accord/state.sqlite), the units are gone" \
  test "$rc" -eq 0 -a -f "$(GR /var/lib/accord/state.sqlite)" -a ! -e "$(GR /lib/systemd/system/accordd.service)"
check "after remove no accord unit is loaded or active" \
  equals "$(G systemctl list-units --all --plain --no-legend 'accordd*' | grep -c -v -E 'not-found +inactive +dead')" 0
rc=0; G apt-get purge -y accord </dev/null >"$W/purge.log" 2>&1 || rc=$?
check "apt-get purge exits 0" equals "$rc" 0
rc=0; G dpkg -L accord >/dev/null 2>&1 || rc=$?
check "dpkg -L accord: the package is not known any more" test "$rc" -ne 0
check "purge removed /var/lib/accord, /etc/accord and /run/accord" \
  test ! -e "$(GR /var/lib/accord)" -a ! -e "$(GR /etc/accord)" -a ! -e "$(GR /run/accord)"
check "no accordd unit file is left (systemctl list-unit-files 'accordd*')" \
  equals "$(G systemctl list-unit-files --no-legend 'accordd*' | wc -l)" 0
G systemctl daemon-reload
file_list >"$W/files-after"
diff "$W/files-before" "$W/files-after" >"$W/files.diff"; sed 's/^/    /' "$W/files.diff" | head -30
check "every file in the guest is as before the install (diff of the file lists is empty)" test ! -s "$W/files.diff"
check "the users accord, alice and bob stay (Debian keeps system users), no accord process runs" \
  test -n "$(G getent passwd accord)" -a -z "$(G pgrep -u accord)"

if [ "$FAIL" -gt 0 ]; then
  echo "--- guest journal, last 60 lines:"; G journalctl -b --no-pager -o short-precise | tail -60
fi
echo "run time: $(( $(date +%s) - t_all )) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
