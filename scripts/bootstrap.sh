#!/bin/bash
# Installs what accord needs on a fresh Debian 12 machine, and only what is missing:
# Debian packages (as root, through apt-get) and a Python virtual environment in .venv
# with the third-party Varlink client and pytest. Safe to run again: it says what it does.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libsystemd-dev libsqlite3-dev pkg-config python3 python3-venv systemd systemd-container
          mandoc man-db passwd util-linux sqlite3)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "bootstrap: swift is not on PATH; the scripts use /opt/swift/usr/bin"
  else
    echo "bootstrap: no Swift toolchain found (expected /opt/swift/usr/bin/swift)" >&2
    exit 1
  fi
fi

if ! .venv/bin/python -c 'import varlink, pytest' 2>/dev/null; then
  echo "bootstrap: creating .venv with varlink and pytest"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q varlink pytest
fi
