#!/bin/bash
# The benchmark suite (make bench): release build, anchors installed and started by itself
# (redis-server, redis-benchmark, hyperfine, atd, cron, remind, GNU time), one table printed and written
# to BENCHMARKS.md with the growth plot BENCHMARKS-growth.svg (matplotlib, from PyPI into .venv).
# QUICK=1 runs a short smoke (small sizes, no BENCHMARKS.md); RUNS=N repeats; BENCH_ONLY=a,b
# runs some rows (idle, control, storm, scale, lateness); BENCH_MILLION=0 leaves out 1,000,000.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
./scripts/bootstrap.sh
missing=()
for p in redis-server redis-tools hyperfine at cron gcc remind time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # The packages' own services are not wanted: the suite starts what it measures.
  pkill -x redis-server || true; pkill -x atd || true; pkill -x cron || true
fi
while read -r requirement; do
  case $requirement in ''|'#'*) continue ;; esac
  if [ "$(.venv/bin/python -m pip show "${requirement%%==*}" 2>/dev/null | sed -n 's/^Version: //p' || true)" != "${requirement#*==}" ]; then
    echo "bench: installing $requirement into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check "$requirement"
  fi
done < scripts/requirements-bench.txt
echo "== release build"
swift build -c release --static-swift-stdlib -Xcxx -DNDEBUG --product accordd >/dev/null
swift build -c release --static-swift-stdlib -Xcxx -DNDEBUG --product accordctl >/dev/null
tools=$(mktemp -d /tmp/accord-bench-tools.XXXXXX)
trap 'rm -rf "$tools"' EXIT
gcc -O2 -pthread -o "$tools/varlink-load" Benchmarks/varlink-load.c
swiftc -O Benchmarks/TimerProbe.swift -o "$tools/timer-probe"
swiftc -O -static-stdlib Benchmarks/FoundationProbe.swift -o "$tools/foundation-probe"
export ACCORD_BENCH_TOOLS=$tools ACCORD_BIN_DIR=$PWD/.build/release
./scripts/with-journald.sh .venv/bin/python Benchmarks/bench.py
