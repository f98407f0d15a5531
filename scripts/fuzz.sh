#!/bin/bash
# Builds the libFuzzer harnesses (Fuzz/) with -sanitize=fuzzer,address and runs each for
# FUZZ_SECONDS (default 60), starting from the committed seed corpora in Fuzz/corpus.
#   usage: scripts/fuzz.sh [HARNESS...]      harnesses: varlink calendar tzif portfolio plan
# A crash leaves its input in .build-fuzz/crash-*; add it to Tests as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
seconds=${FUZZ_SECONDS:-60}
out=.build-fuzz
mkdir -p "$out"
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(varlink calendar tzif portfolio plan)

build() {
  case $1 in
    varlink)  swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzVarlink \
                Fuzz/FuzzVarlink.swift Sources/AccordProtocol/*.swift -o "$out/fuzz-varlink" 2>&1 | grep -v 'Cannot export' || true ;;
    calendar) swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzCalendar Fuzz/FuzzCalendar.swift \
                Sources/AccordCalendar/{ISODuration,CalendarError,CivilDate,Instant}.swift -o "$out/fuzz-calendar" 2>&1 | grep -v 'Cannot export' || true ;;
    tzif)     swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name FuzzTZif Fuzz/FuzzTZif.swift \
                Sources/AccordCalendar/*.swift -o "$out/fuzz-tzif" 2>&1 | grep -v 'Cannot export' || true ;;
    portfolio|plan)
      # The portfolio parser needs toml++ (CAccordTOML, C++) and swift-collections: built by SwiftPM with the
      # harness target that Package.swift adds only when ACCORD_FUZZ is set.
      ACCORD_FUZZ=1 swift build -c release --scratch-path .build-fuzz-spm --product "fuzz-$1" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
        -Xcxx -fsanitize=fuzzer-no-link,address -Xcxx -DNDEBUG 2>&1 | grep -E 'error|Build' || true
      cp ".build-fuzz-spm/release/fuzz-$1" "$out/fuzz-$1" ;;
  esac
}

status=0
for harness in "${harnesses[@]}"; do
  echo "== fuzz-$harness: build"
  build "$harness"
  mkdir -p "$out/corpus/$harness"
  # Leak checks are on for every harness: the portfolio parser's TOML documents are freed
  # whole (Sources/AccordTOML), so a leak found here is accord's.
  leaks=1
  echo "== fuzz-$harness: $seconds s"
  rc=0
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=$leaks "$out/fuzz-$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=$leaks -print_final_stats=1 -artifact_prefix="$out/crash-$harness-" \
    "$out/corpus/$harness" "Fuzz/corpus/$harness" >"$out/fuzz-$harness.log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz-$harness.log" | tail -1)
  if [ $rc -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|Assertion|Fatal|Test unit written' "$out/fuzz-$harness.log" | head -10
    echo "FAIL: fuzz-$harness found a crash after ${runs:-?} executions"
    status=1
  else
    echo "PASS: fuzz-$harness: ${runs:-?} executions in $seconds s, no crash"
  fi
done
exit $status
