#!/bin/bash
# Re-embeds Sources/AccordProtocol/io.accord.Tracker.varlink into Interfaces.swift, so the
# daemon serves the IDL without reading files at run time.
set -euo pipefail
cd "$(dirname "$0")/../Sources/AccordProtocol"
python3 - <<'PY'
import re
idl = open("io.accord.Tracker.varlink").read()
swift = open("Interfaces.swift").read()
start = swift.index('public static let description = #"""\n') + len('public static let description = #"""\n')
end = swift.index('"""#', start)
open("Interfaces.swift", "w").write(swift[:start] + idl + "\n" + swift[end:])
PY
