#!/bin/bash
# Sets up what building and testing accord needs on a Debian 12 machine, and only what is
# missing; safe to run again and again. It prints one line per thing it installs and nothing
# else when all is there already.
#   1. Debian packages (apt-get, as root; `apt-get update` runs once, and only when a package
#      is missing). Without root it names the missing packages and stops.
#   2. The Swift toolchain: used from PATH, else from /opt/swift/usr/bin (the other scripts
#      put that on their own PATH; this script exports nothing to its caller).
#   3. A Python virtual environment in <repo>/.venv with the end-to-end tests' PyPI packages:
#      `varlink` (the third-party Varlink client), `pytest`, `icalendar` (an independent RFC 5545
#      parser), and the pinned ones of scripts/requirements-test.txt (the calendars' sources,
#      `holidays` and `chinesecalendar`).
#   usage: scripts/bootstrap.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

# What each package is for:
#   libsystemd-dev, pkg-config    CSystemd: sd_journal_sendv, sd_notify (pkg-config libsystemd)
#   libsqlite3-dev                the state database (GRDB links the system SQLite)
#   python3, python3-venv         the end-to-end tests (pytest) and the .venv below
#   systemd                       systemd-journald, journalctl, systemd-analyze for the tests
#   systemd-container             systemd-nspawn: the booted-systemd end-to-end test
#   mandoc, man-db                man page lint
#   passwd                        useradd/usermod for the authorization tests
#   util-linux                    unshare, mount, runuser, nsenter, logger (essential: normally there)
#   sqlite3                       the sqlite3 shell, used by tests that look inside the database
#   tzdata                        /usr/share/zoneinfo: the daemon reads its time zones there
#   make                          the Makefile (make check, make lint, make test)
#   (the shell linter)            make lint checks scripts/*.sh and .ci/run with shellcheck
#   khal                          a real calendar program: the tests import accord's .ics into it
#   libtomlplusplus-dev           CAccordTOML: toml++ 3.3, the TOML parser, used header-only
#   libpq-dev                     CLibpq: the PostgreSQL state store's client (pkg-config libpq)
#   postgresql                    initdb, pg_ctl, psql: the tests' own throwaway server
#                                 (scripts/postgres-scratch.sh); Debian 12 ships 15
#   debhelper, devscripts, dpkg-dev, lintian   make deb (scripts/build-deb.sh): the .deb and its check
#   debootstrap                   the package test (scripts/e2e-deb.sh): a Debian 12 root to boot
packages=(libsystemd-dev libsqlite3-dev pkg-config python3 python3-venv systemd systemd-container
          mandoc man-db passwd util-linux sqlite3 make tzdata shellcheck khal libtomlplusplus-dev libpq-dev postgresql
          debhelper devscripts dpkg-dev lintian debootstrap)

command -v dpkg-query >/dev/null || die "dpkg-query not found: this script knows Debian (12) only"
installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep ' installed$' >/dev/null; }

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}; run this as root, or: sudo apt-get install ${missing[*]}"
  fi
  log=$(mktemp /tmp/accord-bootstrap.XXXXXX)
  trap 'rm -f "$log"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -q >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get update failed"
  fi
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get install ${missing[*]} failed"
  fi
  for package in "${missing[@]}"; do
    installed "$package" || die "$package is still not installed after apt-get install"
    say "installed $package $(dpkg-query -W -f='${Version}' "$package") (Debian)"
  done
fi

# The Swift toolchain: this script only checks it; test.sh and run.sh add /opt/swift/usr/bin to
# their own PATH the same way.
if ! command -v swift >/dev/null; then
  [ -x /opt/swift/usr/bin/swift ] || die "no Swift toolchain: swift is not on PATH and /opt/swift/usr/bin/swift is missing"
  PATH=/opt/swift/usr/bin:$PATH
  say "swift is not on your PATH; the scripts use /opt/swift/usr/bin (for your shell: export PATH=/opt/swift/usr/bin:\$PATH)"
fi
swift --version >/dev/null 2>&1 || die "$(command -v swift) does not run: $(swift --version 2>&1 | head -3)"

# The virtual environment. A .venv that cannot run (say, made by a Python that is gone) is
# made again; packages already there are not reinstalled.
venv=$repo/.venv
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  say "created $venv ($("$venv/bin/python" --version 2>&1))"
fi
# icalendar: an independent RFC 5545 parser for the tests of the calendar export.
for module in varlink pytest icalendar; do
  if ! "$venv/bin/python" -c "import $module" >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$module" || die "pip install $module failed"
    say "installed $module $("$venv/bin/python" -m pip show "$module" 2>/dev/null | sed -n 's/^Version: //p') into .venv (PyPI)"
  fi
done
# Pinned packages: installed when missing or at another version than the pin.
while read -r requirement; do
  case $requirement in ''|'#'*) continue ;; esac
  name=${requirement%%==*} pinned=${requirement#*==}
  have=$("$venv/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)  # pip show fails for a missing package
  if [ "$have" != "$pinned" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$requirement" || die "pip install $requirement failed"
    say "installed $requirement into .venv (PyPI)"
  fi
done < "$repo/scripts/requirements-test.txt"
